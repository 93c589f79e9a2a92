//! `vdpa-client`: a userspace virtio driver over the Linux vhost-vdpa uAPI
//! (`include/uapi/linux/vhost.h`, `drivers/vhost/vdpa.c`), for
//! `/dev/vhost-vdpa-N` (mainline `vhost_vdpa`) and `/dev/vhost-mdev-N`
//! (rmdev's `vhost_mdev`, same uAPI).
//!
//! Subcommands:
//! - `net`: loop frames through a virtio-net device ([`net`]);
//! - `blk`: write, flush and read back blocks of a virtio-blk device
//!   ([`blk`]);
//! - `map-bench`: time IOTLB mapping ([`map_bench`]).
//!
//! One summary line goes to stdout; problems go to stderr. Exit status: 0
//! when everything came back right, 1 when the device misbehaved (wrong or
//! missing data, timeout, protocol violation), 2 when setup failed (an
//! ioctl failed — the message names it and its errno — or bad arguments).

mod blk;
mod device;
mod error;
mod map_bench;
mod memory;
mod net;
mod ring;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, EXIT_DEVICE};

/// A virtio driver over vhost-vdpa: loopback, block and IOTLB tests.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Trace the setup steps on stderr.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Send frames to the device's own MAC and check that each comes back
    /// byte-identical and in order (virtio-net loopback, e.g. vdpa_sim_net).
    Net(NetArgs),
    /// Write blocks, flush, read them back and compare (virtio-blk).
    Blk(BlkArgs),
    /// Time mapping memory through IOTLB update messages.
    MapBench(MapArgs),
}

#[derive(Args, Debug)]
struct Common {
    /// The vhost-vdpa character device (/dev/vhost-vdpa-N, /dev/vhost-mdev-N).
    #[arg(long)]
    dev: String,
    /// Virtqueue size (a power of two, at most the device's maximum).
    #[arg(long, default_value_t = 256, value_parser = parse_qsize)]
    qsize: u16,
    /// Instead of the check, keep the ring full for SECONDS and print the
    /// rate.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    bench: Option<u64>,
    /// Fail when the device completes nothing for this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

#[derive(Args, Debug)]
struct NetArgs {
    #[command(flatten)]
    common: Common,
    /// Frames to send.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    frames: u64,
    /// Frame size in bytes, Ethernet header included (no FCS).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(net::MIN_FRAME as u64..=net::MAX_FRAME as u64))]
    size: u64,
}

#[derive(Args, Debug)]
struct BlkArgs {
    #[command(flatten)]
    common: Common,
    /// 4 KiB blocks to write and read back.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    blocks: u64,
    /// With --bench: random writes instead of random reads.
    #[arg(long, requires = "bench")]
    write: bool,
}

#[derive(Args, Debug)]
struct MapArgs {
    /// The vhost-vdpa character device.
    #[arg(long)]
    dev: String,
    /// MiB of memory to map.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    mib: u64,
    /// MiB per IOTLB update message; 0 maps everything with one message.
    #[arg(long, default_value_t = 2)]
    chunk_mib: u64,
}

fn parse_qsize(s: &str) -> Result<u16, String> {
    let n: u16 = s.parse().map_err(|e| format!("{e}"))?;
    if n == 0 || !n.is_power_of_two() {
        return Err(format!("{n} is not a power of two"));
    }
    Ok(n)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("vdpa-client: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Runs the subcommand; returns the exit code of a run that completed (0 or
/// [`EXIT_DEVICE`] when the data did not come back right).
fn run(cli: Cli) -> Result<i32, Error> {
    let verbose = cli.verbose;
    match cli.cmd {
        Cmd::Net(a) => {
            let opts = net::NetOptions {
                dev: a.common.dev,
                frames: a.frames,
                size: a.size as usize,
                qsize: a.common.qsize,
                bench: a.common.bench.map(Duration::from_secs),
                timeout: Duration::from_secs(a.common.timeout),
                verbose,
            };
            let r = net::run(&opts)?;
            let ok = if opts.bench.is_some() {
                println!("pps {}", per_second(r.received, r.elapsed));
                r.problem.is_none() && r.identical == r.received
            } else {
                println!(
                    "net: sent {} received {} identical {}",
                    r.sent, r.received, r.identical
                );
                r.problem.is_none() && r.identical == opts.frames
            };
            Ok(verdict(ok, r.problem))
        }
        Cmd::Blk(a) => {
            let opts = blk::BlkOptions {
                dev: a.common.dev,
                blocks: a.blocks,
                qsize: a.common.qsize,
                bench: a.common.bench.map(Duration::from_secs),
                write: a.write,
                timeout: Duration::from_secs(a.common.timeout),
                verbose,
            };
            let r = blk::run(&opts)?;
            let ok = if opts.bench.is_some() {
                println!("iops {}", per_second(r.completed, r.elapsed));
                r.problem.is_none()
            } else {
                println!(
                    "blk: wrote {} read {} identical {}",
                    r.wrote, r.read, r.identical
                );
                if verbose {
                    match r.flushed {
                        Some(ok) => {
                            eprintln!("vdpa-client: flush {}", if ok { "ok" } else { "FAILED" })
                        }
                        None => eprintln!("vdpa-client: no flush (VIRTIO_BLK_F_FLUSH not offered)"),
                    }
                }
                r.problem.is_none() && r.identical == opts.blocks && r.flushed != Some(false)
            };
            Ok(verdict(ok, r.problem))
        }
        Cmd::MapBench(a) => {
            let opts = map_bench::MapOptions {
                dev: a.dev,
                mib: a.mib,
                chunk_mib: a.chunk_mib,
                verbose,
            };
            let r = map_bench::run(&opts)?;
            if verbose {
                eprintln!(
                    "vdpa-client: {} MiB in {} update message(s); invalidate took {} ms",
                    opts.mib,
                    r.messages,
                    r.unmap.as_millis()
                );
            }
            println!("map-ms {}", r.map.as_millis());
            Ok(0)
        }
    }
}

/// 0 if `ok`; otherwise says what went wrong and returns [`EXIT_DEVICE`].
fn verdict(ok: bool, problem: Option<String>) -> i32 {
    if ok {
        return 0;
    }
    eprintln!(
        "vdpa-client: {}",
        problem.unwrap_or_else(|| "not every item came back identical".into())
    );
    EXIT_DEVICE
}

/// `n` events over `elapsed`, per second, rounded down.
fn per_second(n: u64, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        (n as f64 / secs) as u64
    } else {
        0
    }
}
