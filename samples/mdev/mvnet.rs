// SPDX-License-Identifier: GPL-2.0

//! mvnet: an mdev parent whose devices are virtio-net cards that loop every
//! frame sent on their TX queue back to their own RX queue.
//!
//! - Parent device `mvnet.0` on bus `vbus`, bound by this module's driver
//!   `mvnet`; types `mvnet-virtio` (class VIRTIO) and `mvnet-vhost` (class
//!   VHOST), at most `max_instances` (module parameter, default
//!   [`MAX_INSTANCES`], at most [`MAX_INSTANCES_LIMIT`]) each.
//! - Device model: virtio 1.3 section 5.1 with `VIRTIO_F_VERSION_1`,
//!   `VIRTIO_NET_F_MAC`, `_MTU` and `_STATUS`; one queue pair (receiveq 0,
//!   transmitq 1). The loopback, its receive filter and its counters follow
//!   `drivers/vdpa/vdpa_sim/vdpa_sim_net.c`: a TX frame (with its
//!   `virtio_net_hdr_v1`, rewritten to "no offloads, one buffer") is copied
//!   to the next RX buffer when it is broadcast, multicast or addressed to
//!   the device's MAC, else dropped; at most [`BATCH`] frames per run of the
//!   device's work. Frames longer than a page are TX errors.
//! - Counters per queue, with ethtool's names, in
//!   `/sys/kernel/debug/mvnet/<uuid>/stats`; the link state (`status`
//!   field) in `/sys/kernel/debug/mvnet/<uuid>/link`: reads `up` or `down`,
//!   takes `up`/`down`/`1`/`0`, and a change is a config change for the
//!   driver (a link flap); while it is down, sent frames are dropped.
//! - Fault injection: writing `1` to `/sys/kernel/debug/mvnet/<uuid>/fail`
//!   makes the device's next run fail as on a broken ring: the device sets
//!   `NEEDS_RESET` and processes nothing until it is reset.
//! - The MAC is `02:` (locally administered) then the first 5 bytes of the
//!   mdev's UUID.

use core::sync::atomic::{
    AtomicBool,
    AtomicU64,
    Ordering::Relaxed, //
};
use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    device::Core,
    page::PAGE_SIZE,
    prelude::*,
    sync::Arc,
    uaccess::UserSliceReader, //
};
use mdev::{
    Class,
    Parent,
    TypeInfo,
    TypeTable,
    Uuid, //
};
use vdev::{
    virtio::{
        self,
        net,
        Features, //
    },
    ConfigNotifier,
    DeviceHandle,
    Model,
    Queues,
    VirtioDevice, //
};

/// Most live mdevs per type by default (module parameter `max_instances`).
const MAX_INSTANCES: u32 = 16;
/// Highest `max_instances` taken; larger values are cut to it.
const MAX_INSTANCES_LIMIT: u32 = 4096;
/// Frames looped per run of the device's work before it yields.
const BATCH: u32 = 16;
/// Receive queue index.
const RXQ: u16 = 0;
/// Transmit queue index.
const TXQ: u16 = 1;
/// The MTU the device reports, in bytes.
const MTU: u16 = 1500;

/// Counters of one device, readable while it runs.
#[derive(Default)]
struct Stats {
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    rx_drops: AtomicU64,
    rx_overruns: AtomicU64,
    rx_errors: AtomicU64,
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    tx_errors: AtomicU64,
}

impl Stats {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// The `stats` file: one `name value` line per counter.
    fn show(this: &Arc<Stats>, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        let lines: [(&str, &AtomicU64); 8] = [
            ("rx_queue_0_packets", &this.rx_packets),
            ("rx_queue_0_bytes", &this.rx_bytes),
            ("rx_queue_0_drops", &this.rx_drops),
            ("rx_queue_0_overruns", &this.rx_overruns),
            ("rx_queue_0_errors", &this.rx_errors),
            ("tx_queue_0_packets", &this.tx_packets),
            ("tx_queue_0_bytes", &this.tx_bytes),
            ("tx_queue_0_errors", &this.tx_errors),
        ];
        for (name, v) in lines {
            writeln!(f, "{name} {}", v.load(Relaxed))?;
        }
        Ok(())
    }
}

/// The link control of one device: its `link` file.
struct LinkCtl {
    up: Arc<AtomicBool>,
    notifier: ConfigNotifier<NetModel>,
}

impl LinkCtl {
    fn show(this: &LinkCtl, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        writeln!(f, "{}", if this.up.load(Relaxed) { "up" } else { "down" })
    }

    /// Takes `up`, `down`, `1` or `0` (and a newline).
    ///
    /// # Errors
    ///
    /// `EINVAL` for anything else.
    fn store(this: &LinkCtl, input: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 6];
        let len = input.len();
        let buf = buf.get_mut(..len).ok_or(EINVAL)?;
        input.read_slice(buf)?;
        let word = buf.strip_suffix(b"\n").unwrap_or(buf);
        let up = match word {
            b"up" | b"1" => true,
            b"down" | b"0" => false,
            _ => return Err(EINVAL),
        };
        if this.up.swap(up, Relaxed) != up {
            this.notifier.config_changed();
        }
        Ok(())
    }
}

/// The `fail` file: writing `1` (and a newline) arms a device failure.
///
/// # Errors
///
/// `EINVAL` for anything else.
fn arm_failure(fail: &Arc<AtomicBool>, input: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 2];
    let buf = buf.get_mut(..input.len()).ok_or(EINVAL)?;
    input.read_slice(buf)?;
    match &*buf {
        b"1" | b"1\n" => {
            fail.store(true, Relaxed);
            Ok(())
        }
        _ => Err(EINVAL),
    }
}

/// The virtio-net device model.
struct NetModel {
    mac: [u8; 6],
    link_up: Arc<AtomicBool>,
    /// The next run fails (the `fail` file).
    fail: Arc<AtomicBool>,
    stats: Arc<Stats>,
    /// One frame in flight, header included (as `vdpasim_net`'s buffer):
    /// a page, allocated when the device first moves a frame and freed on
    /// reset, so an mdev nobody drives does not hold it.
    buf: KVec<u8>,
}

impl NetModel {
    fn new(
        mac: [u8; 6],
        link_up: Arc<AtomicBool>,
        fail: Arc<AtomicBool>,
        stats: Arc<Stats>,
    ) -> Result<Self> {
        Ok(Self {
            mac,
            link_up,
            fail,
            stats,
            buf: KVec::new(),
        })
    }

    /// Whether a frame of `len` bytes in `buf` reaches our RX queue
    /// (`receive_filter()` of `vdpa_sim_net.c`).
    fn accepts(&self, len: usize) -> bool {
        let Some(dst) = self
            .buf
            .get(net::HDR_LEN..net::HDR_LEN + 6)
            .filter(|_| len >= net::HDR_LEN + 6)
        else {
            return false;
        };
        dst[0] & 1 != 0 || dst == self.mac
    }

    /// Loops TX frames to RX until TX is empty, RX is full or a batch is
    /// done; returns whether work is left.
    ///
    /// # Errors
    ///
    /// vringh's errno when a ring is broken.
    fn loopback(&mut self, vqs: &mut Queues<'_>) -> Result<bool> {
        let Some((mut rx, mut tx)) = vqs.pair(RXQ, TXQ) else {
            return Ok(false);
        };
        if self.buf.is_empty() {
            // ENOMEM here: the device fails (NEEDS_RESET), the driver resets it.
            self.buf = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL)?;
        }
        let s = self.stats.clone();
        for _ in 0..BATCH {
            let head = match tx.as_mut().next() {
                Ok(Some(head)) => head,
                Ok(None) => return Ok(false),
                Err(e) => {
                    Stats::add(&s.tx_errors, 1);
                    return Err(e);
                }
            };
            let read = match tx.as_mut().read(&mut self.buf) {
                // A frame must fit the buffer (MTU + headers, well below).
                Ok(read) if read > 0 && tx.readable() == 0 => read,
                _ => {
                    Stats::add(&s.tx_errors, 1);
                    tx.as_mut().complete(head, 0)?;
                    continue;
                }
            };
            Stats::add(&s.tx_packets, 1);
            Stats::add(&s.tx_bytes, read as u64);
            // Nothing arrives over a link that is down.
            if !self.link_up.load(Relaxed) || !self.accepts(read) {
                Stats::add(&s.rx_drops, 1);
                tx.as_mut().complete(head, 0)?;
                continue;
            }
            let rx_head = match rx.as_mut().next() {
                Ok(Some(h)) => h,
                Ok(None) => {
                    // No buffer: the frame is lost, as on a real link.
                    Stats::add(&s.rx_overruns, 1);
                    tx.as_mut().complete(head, 0)?;
                    return Ok(false);
                }
                Err(e) => {
                    Stats::add(&s.rx_errors, 1);
                    // The device fails on `e` (NEEDS_RESET) whatever this
                    // gives: `e` is the error to report.
                    let _ = tx.as_mut().complete(head, 0);
                    return Err(e);
                }
            };
            // The RX header: no offloads, one buffer (virtio 1.3 section
            // 5.1.6.4.1: num_buffers is 1 without VIRTIO_NET_F_MRG_RXBUF).
            self.buf[..net::HDR_LEN].fill(0);
            self.buf[net::HDR_NUM_BUFFERS..][..2].copy_from_slice(&1u16.to_le_bytes());
            let written = rx.as_mut().write(&self.buf[..read]).unwrap_or(0);
            if written < read {
                Stats::add(&s.rx_errors, 1);
            } else {
                Stats::add(&s.rx_packets, 1);
                Stats::add(&s.rx_bytes, written as u64);
            }
            // A used ring that cannot be written is a broken ring: the
            // device fails (NEEDS_RESET), as for a descriptor error.
            tx.as_mut().complete(head, 0)?;
            rx.as_mut()
                .complete(rx_head, if written < read { 0 } else { written as u32 })?;
        }
        Ok(true)
    }
}

impl Model for NetModel {
    const DEVICE_ID: u32 = virtio::ID_NET;
    const NUM_QUEUES: u16 = 2;
    const CONFIG_SIZE: usize = net::CONFIG_MTU + 2;

    fn features(&self) -> Features {
        virtio::F_VERSION_1 | net::F_MAC | net::F_MTU | net::F_STATUS
    }

    fn config(&self, config: &mut [u8]) {
        config[net::CONFIG_MAC..net::CONFIG_MAC + 6].copy_from_slice(&self.mac);
        let status = if self.link_up.load(Relaxed) {
            net::S_LINK_UP
        } else {
            0
        };
        config[net::CONFIG_STATUS..][..2].copy_from_slice(&status.to_le_bytes());
        config[net::CONFIG_MAX_VQ_PAIRS..][..2].copy_from_slice(&1u16.to_le_bytes());
        config[net::CONFIG_MTU..][..2].copy_from_slice(&MTU.to_le_bytes());
    }

    fn process(&mut self, vqs: &mut Queues<'_>) -> Result<bool> {
        if self.fail.swap(false, Relaxed) {
            return Err(EIO);
        }
        self.loopback(vqs)
    }

    fn reset(&mut self) {
        self.buf = KVec::new();
    }
}

/// One mdev of the parent: the device and its debugfs files.
struct Mvnet {
    // Dropped first: the files go before the device they describe.
    _stats_file: Pin<KBox<File<Arc<Stats>>>>,
    _link_file: Pin<KBox<File<LinkCtl>>>,
    _fail_file: Pin<KBox<File<Arc<AtomicBool>>>>,
    _dir: Dir,
    _dev: VirtioDevice<NetModel>,
}

/// The parent: its types, and the debugfs directory of its mdevs.
struct MvnetParent {
    debugfs: Dir,
    max_instances: u32,
}

/// The MAC of the mdev `uuid`.
fn mac_of(uuid: &Uuid) -> [u8; 6] {
    let u = uuid.as_bytes();
    [0x02, u[0], u[1], u[2], u[3], u[4]]
}

impl Parent for MvnetParent {
    type TypeData = ();
    type Device = Mvnet;
    type ClassData = DeviceHandle;

    const TYPES: TypeTable<()> = &[
        (
            TypeInfo {
                sysfs_name: c"virtio",
                pretty_name: c"mvnet virtio-net loopback (virtio class)",
                description: c"virtio-net device looping TX to RX, for the kernel's virtio_net",
                device_api: c"virtio-mdev",
                class: Class::Virtio,
                max_instances: MAX_INSTANCES,
            },
            (),
        ),
        (
            TypeInfo {
                sysfs_name: c"vhost",
                pretty_name: c"mvnet virtio-net loopback (vhost class)",
                description: c"virtio-net device looping TX to RX, for vhost-vdpa userspace",
                device_api: c"vhost-mdev",
                class: Class::Vhost,
                max_instances: MAX_INSTANCES,
            },
            (),
        ),
    ];

    fn create(&self, _info: &TypeInfo, _data: &(), uuid: &Uuid) -> Result<(Mvnet, DeviceHandle)> {
        let stats = Arc::new(Stats::default(), GFP_KERNEL)?;
        let up = Arc::new(AtomicBool::new(true), GFP_KERNEL)?;
        let fail = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;
        let model = NetModel::new(mac_of(uuid), up.clone(), fail.clone(), stats.clone())?;
        let dev = VirtioDevice::new(model)?;
        let dir = self.debugfs.subdir(uuid.to_cstring().as_cstr());
        let stats_file = KBox::pin_init(
            dir.read_callback_file(c"stats", stats, &Stats::show),
            GFP_KERNEL,
        )?;
        let link = LinkCtl {
            up,
            notifier: dev.config_notifier(),
        };
        let link_file = KBox::pin_init(
            dir.read_write_callback_file(c"link", link, &LinkCtl::show, &LinkCtl::store),
            GFP_KERNEL,
        )?;
        let fail_file = KBox::pin_init(
            dir.write_callback_file(c"fail", fail, &arm_failure),
            GFP_KERNEL,
        )?;
        let handle = dev.handle();
        Ok((
            Mvnet {
                _stats_file: stats_file,
                _link_file: link_file,
                _fail_file: fail_file,
                _dir: dir,
                _dev: dev,
            },
            handle,
        ))
    }

    fn max_instances(&self, _info: &TypeInfo) -> u32 {
        self.max_instances
    }
}

/// The parent module's driver: parent `mvnet.0`.
struct MvnetDriver;

impl mdev::ParentDriver for MvnetDriver {
    const NAME: &'static CStr = c"mvnet";
    type Parent = MvnetParent;

    fn parent(_dev: &vbus::Device<Core<'_>>) -> Result<MvnetParent> {
        let max_instances = module_parameters::max_instances
            .value()
            .min(MAX_INSTANCES_LIMIT);
        Ok(MvnetParent {
            debugfs: Dir::new(c"mvnet"),
            max_instances,
        })
    }
}

mdev::module_parent! {
    driver: MvnetDriver,
    name: "mvnet",
    authors: ["rmdev developers"],
    description: "rmdev sample parent: virtio-net loopback mdevs",
    license: "GPL",
    params: {
        max_instances: u32 {
            default: crate::MAX_INSTANCES,
            description: "Most live mdevs per type (at most 4096)",
        },
    },
}

#[kernel::macros::kunit_tests(rmdev_mvnet)]
mod tests {
    use super::*;
    use vdev::{
        testing::{
            bring_up,
            wait_until,
            Counter,
            DriverRing, //
        },
        vhost::Perm,
        virtio::{
            Status,
            StatusBit, //
        },
    };

    const UUID: &[u8] = b"8a3e2b6c-1f4d-4e5a-9b7c-0d1e2f3a4b5c";
    const RX_BUF: usize = net::HDR_LEN + 1514;

    /// A device with its rings up and a callback counter on RX.
    struct Bench {
        dev: VirtioDevice<NetModel>,
        /// The device's MAC.
        mac: [u8; 6],
        up: Arc<AtomicBool>,
        stats: Arc<Stats>,
        rx: DriverRing,
        tx: DriverRing,
        rx_calls: Arc<Counter>,
    }

    fn bench() -> Result<Bench> {
        let stats = Arc::new(Stats::default(), GFP_KERNEL)?;
        let up = Arc::new(AtomicBool::new(true), GFP_KERNEL)?;
        let mac = mac_of(&Uuid::parse(UUID)?);
        let fail = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;
        let dev = VirtioDevice::new(NetModel::new(mac, up.clone(), fail, stats.clone())?)?;
        let mut rx = DriverRing::new(16, 16 * RX_BUF)?;
        let mut tx = DriverRing::new(16, 16 * 128)?;
        let ops = dev.ops();
        bring_up(
            ops.clone(),
            net::F_MAC | net::F_MTU,
            &mut [&mut rx, &mut tx],
        )?;
        let rx_calls = Arc::new(Counter::default(), GFP_KERNEL)?;
        ops.set_vq_callback(RXQ, Some(rx_calls.clone()))?;
        Ok(Bench {
            dev,
            mac,
            up,
            stats,
            rx,
            tx,
            rx_calls,
        })
    }

    /// A frame to `dst` with its virtio-net header, `len` bytes in all.
    fn frame(dst: [u8; 6], len: usize, fill: u8) -> Result<KVec<u8>> {
        let mut f = KVec::from_elem(fill, len, GFP_KERNEL)?;
        f[..net::HDR_LEN].fill(0);
        f[net::HDR_LEN..net::HDR_LEN + 6].copy_from_slice(&dst);
        Ok(f)
    }

    #[test]
    fn config_space() -> Result {
        let b = bench()?;
        let ops = b.dev.ops();
        assert_eq!(ops.device_id(), 1);
        assert_eq!(ops.num_queues(), 2);
        assert_eq!(ops.config_size(), 12);
        let mut cfg = [0u8; 12];
        assert_eq!(ops.get_config(0, &mut cfg), Ok(()));
        assert_eq!(cfg[..6], b.mac);
        assert_eq!(cfg[6..], [1, 0, 1, 0, 0xdc, 0x05]); // LINK_UP, 1 pair, 1500
        assert_eq!(ops.get_config(8, &mut [0u8; 5]), Err(EINVAL));
        assert_eq!(ops.get_config(usize::MAX, &mut [0u8; 2]), Err(EINVAL));
        // Only offered features stick.
        assert_eq!(
            ops.driver_features(),
            virtio::F_VERSION_1 | net::F_MAC | net::F_MTU
        );
        Ok(())
    }

    #[test]
    fn link_change_is_a_config_change() -> Result {
        let b = bench()?;
        let ops = b.dev.ops();
        let calls = Arc::new(Counter::default(), GFP_KERNEL)?;
        ops.set_config_callback(Some(calls.clone()));
        let generation = ops.config_generation();
        b.up.store(false, Relaxed);
        b.dev.config_notifier().config_changed();
        assert_eq!(calls.get(), 1);
        assert_ne!(ops.config_generation(), generation);
        let mut status = [0xffu8; 2];
        assert_eq!(ops.get_config(net::CONFIG_STATUS, &mut status), Ok(()));
        assert_eq!(status, [0, 0]);
        Ok(())
    }

    #[test]
    fn link_down_drops_frames() -> Result {
        let mut b = bench()?;
        let mac = b.mac;
        b.up.store(false, Relaxed);
        b.rx.add(&[], &[RX_BUF])?;
        b.tx.add(&[&frame(mac, 64, 9)?], &[])?;
        b.dev.ops().kick_vq(TXQ);
        assert!(wait_until(|| b.tx.used_idx() == 1));
        assert_eq!(b.stats.rx_drops.load(Relaxed), 1);
        assert_eq!(b.rx.used_idx(), 0);
        Ok(())
    }

    #[test]
    fn unicast_to_own_mac_loops_back() -> Result {
        let mut b = bench()?;
        let mac = b.mac;
        let rx_head = b.rx.add(&[], &[RX_BUF])?;
        let f = frame(mac, net::HDR_LEN + 60, 0xa5)?;
        let tx_head = b.tx.add(&[&f[..net::HDR_LEN], &f[net::HDR_LEN..]], &[])?;
        b.dev.ops().kick_vq(TXQ);
        assert!(wait_until(|| b.rx.used_idx() == 1));
        assert_eq!(b.rx.used(), Some((rx_head, f.len() as u32)));
        assert_eq!(b.tx.used(), Some((tx_head, 0)));
        let mut got = KVec::from_elem(0u8, RX_BUF, GFP_KERNEL)?;
        assert_eq!(b.rx.written(rx_head, &mut got), RX_BUF);
        // The header says "one buffer", the frame is as sent.
        assert_eq!(got[net::HDR_NUM_BUFFERS..][..2], [1, 0]);
        assert_eq!(&got[net::HDR_LEN..f.len()], &f[net::HDR_LEN..]);
        assert_eq!(b.stats.tx_packets.load(Relaxed), 1);
        assert_eq!(b.stats.rx_packets.load(Relaxed), 1);
        assert_eq!(b.stats.rx_bytes.load(Relaxed), f.len() as u64);
        assert!(wait_until(|| b.rx_calls.get() == 1));
        Ok(())
    }

    #[test]
    fn other_unicast_is_dropped_broadcast_is_not() -> Result {
        let mut b = bench()?;
        b.rx.add(&[], &[RX_BUF])?;
        b.tx.add(&[&frame([0x02, 9, 9, 9, 9, 9], 74, 1)?], &[])?;
        b.tx.add(&[&frame([0xff; 6], 74, 2)?], &[])?;
        b.dev.ops().kick_vq(TXQ);
        assert!(wait_until(|| b.tx.used_idx() == 2));
        assert!(wait_until(|| b.rx.used_idx() == 1));
        assert_eq!(b.stats.rx_drops.load(Relaxed), 1);
        assert_eq!(b.stats.rx_packets.load(Relaxed), 1);
        assert_eq!(b.stats.tx_packets.load(Relaxed), 2);
        Ok(())
    }

    #[test]
    fn more_than_a_batch_all_arrive() -> Result {
        let mut b = bench()?;
        let mac = b.mac;
        let f = frame(mac, 64, 7)?;
        let mut sent = 0u16;
        // Three rounds of 15 frames (a ring of 16 keeps fewer in flight).
        for _ in 0..3 {
            for _ in 0..15 {
                b.rx.add(&[], &[RX_BUF])?;
                b.tx.add(&[&f], &[])?;
            }
            sent += 15;
            b.dev.ops().kick_vq(TXQ);
            assert!(wait_until(|| b.rx.used_idx() == sent));
            while b.rx.used().is_some() {}
            while b.tx.used().is_some() {}
        }
        assert_eq!(b.stats.rx_packets.load(Relaxed), 45);
        Ok(())
    }

    #[test]
    fn frame_longer_than_a_page_is_a_tx_error() -> Result {
        let mut b = bench()?;
        let mac = b.mac;
        let big = frame(mac, PAGE_SIZE + 1, 6)?;
        let mut tx = DriverRing::new(16, 2 * PAGE_SIZE)?;
        let ops = b.dev.ops();
        bring_up(ops.clone(), Features::EMPTY, &mut [&mut b.rx, &mut tx])?;
        b.rx.add(&[], &[RX_BUF])?;
        tx.add(&[&big], &[])?;
        ops.kick_vq(TXQ);
        assert!(wait_until(|| tx.used_idx() == 1));
        assert_eq!(b.stats.tx_errors.load(Relaxed), 1);
        assert_eq!(b.stats.rx_packets.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn broken_ring_sets_needs_reset() -> Result {
        let mut b = bench()?;
        let ops = b.dev.ops();
        let config_calls = Arc::new(Counter::default(), GFP_KERNEL)?;
        ops.set_config_callback(Some(config_calls.clone()));
        let generation = ops.config_generation();
        // A head past the end of the descriptor table: vringh refuses it.
        b.tx.make_available(99);
        ops.kick_vq(TXQ);
        assert!(wait_until(|| ops.status().contains(StatusBit::NeedsReset)));
        assert_eq!(config_calls.get(), 1);
        assert_ne!(ops.config_generation(), generation);
        assert_eq!(b.stats.tx_errors.load(Relaxed), 1);
        // Writing the status does not clear it; only a reset does (which
        // bring_up does), and the device then works again.
        ops.set_status(ops.status() & !StatusBit::NeedsReset);
        assert!(ops.status().contains(StatusBit::NeedsReset));
        let mac = b.mac;
        let (mut rx, mut tx) = (DriverRing::new(4, 4 * RX_BUF)?, DriverRing::new(4, 512)?);
        bring_up(ops.clone(), Features::EMPTY, &mut [&mut rx, &mut tx])?;
        assert!(!ops.status().contains(StatusBit::NeedsReset));
        rx.add(&[], &[RX_BUF])?;
        tx.add(&[&frame(mac, 64, 8)?], &[])?;
        ops.kick_vq(TXQ);
        assert!(wait_until(|| rx.used_idx() == 1));
        Ok(())
    }

    #[test]
    fn no_rx_buffer_is_an_overrun() -> Result {
        let mut b = bench()?;
        let mac = b.mac;
        b.tx.add(&[&frame(mac, 64, 3)?], &[])?;
        b.dev.ops().kick_vq(TXQ);
        assert!(wait_until(|| b.tx.used_idx() == 1));
        assert_eq!(b.stats.rx_overruns.load(Relaxed), 1);
        assert_eq!(b.rx.used_idx(), 0);
        Ok(())
    }

    #[test]
    fn reset_and_features() -> Result {
        let b = bench()?;
        let ops = b.dev.ops();
        let generation = ops.config_generation();
        assert_eq!(ops.set_driver_features(Features::EMPTY), Err(EBUSY));
        ops.set_status(Status::empty());
        assert_eq!(ops.status(), Status::empty());
        assert_eq!(ops.driver_features(), Features::EMPTY);
        assert_eq!(ops.vq_ready(RXQ), Ok(false));
        assert_eq!(ops.vq_ready(2), Err(EINVAL));
        assert_ne!(ops.config_generation(), generation);
        // A legacy driver (no VERSION_1) is refused at FEATURES_OK.
        ops.set_status(StatusBit::Acknowledge | StatusBit::Driver);
        assert_eq!(ops.set_driver_features(net::F_MAC), Ok(()));
        ops.set_status(StatusBit::Acknowledge | StatusBit::Driver | StatusBit::FeaturesOk);
        assert!(!ops.status().contains(StatusBit::FeaturesOk));
        assert_eq!(ops.set_vq_num(0, 3), Err(EINVAL));
        assert_eq!(ops.set_vq_num(0, 512), Err(EINVAL));
        assert_eq!(ops.set_vq_ready(0, true), Err(EINVAL));
        Ok(())
    }

    #[test]
    fn suspend_keeps_state_resume_processes_kicks() -> Result {
        let mut b = bench()?;
        let ops = b.dev.ops();
        let mac = b.mac;
        assert_eq!(ops.suspend(), Ok(()));
        assert!(ops.suspended());
        b.rx.add(&[], &[RX_BUF])?;
        b.tx.add(&[&frame(mac, 64, 4)?], &[])?;
        ops.kick_vq(TXQ);
        kernel::time::delay::fsleep(kernel::time::Delta::from_millis(50));
        assert_eq!(b.rx.used_idx(), 0);
        assert_eq!(ops.vq_state(TXQ), Ok(0));
        assert_eq!(ops.resume(), Ok(()));
        assert!(wait_until(|| b.rx.used_idx() == 1));
        assert_eq!(ops.vq_state(TXQ), Ok(1));
        assert_eq!(ops.set_vq_state(TXQ, 5), Err(EBUSY));
        Ok(())
    }

    #[test]
    fn used_ring_the_device_cannot_write_is_a_broken_ring() -> Result {
        let mut b = bench()?;
        let mac = b.mac;
        let ops = b.dev.ops();
        b.rx.add(&[], &[RX_BUF])?;
        b.tx.add(&[&frame(mac, 64, 5)?], &[])?;
        // The driver (vhost userspace may) takes write access away.
        ops.iotlb().reset();
        ops.iotlb().add_range(0, u64::MAX, 0, Perm::ReadOnly)?;
        ops.kick_vq(TXQ);
        assert!(wait_until(|| ops.status().contains(StatusBit::NeedsReset)));
        assert_eq!(b.tx.used_idx(), 0);
        Ok(())
    }
}
