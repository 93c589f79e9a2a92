// SPDX-License-Identifier: GPL-2.0

//! Virtio types and constants that device models and class drivers share,
//! taken from the kernel's uAPI headers through the crate's bindgen run (so
//! they cannot drift from the C definitions).
//!
//! Sources: [`include/uapi/linux/virtio_config.h`](srctree/include/uapi/linux/virtio_config.h),
//! [`virtio_ids.h`](srctree/include/uapi/linux/virtio_ids.h),
//! [`virtio_net.h`](srctree/include/uapi/linux/virtio_net.h),
//! [`virtio_blk.h`](srctree/include/uapi/linux/virtio_blk.h); virtio 1.3
//! sections 2.1 (status), 2.2 (feature bits), 5.1 (network device) and 5.2
//! (block device).

use crate::bindings as b;
use kernel::impl_flags;

/// Vendor id the device models report (`VIRTIO_DEV_ANY_ID` is not a
/// vendor; mainline's simulators report 0, as we do).
pub const VENDOR_ID: u32 = 0;

impl_flags!(
    /// A device status byte (virtio 1.3 section 2.1).
    #[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
    pub struct Status(u8);

    /// One bit of the device status.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum StatusBit {
        /// The guest OS has noticed the device.
        Acknowledge = b::VIRTIO_CONFIG_S_ACKNOWLEDGE as u8,
        /// The guest OS knows how to drive the device.
        Driver = b::VIRTIO_CONFIG_S_DRIVER as u8,
        /// The driver is set up and ready to drive the device.
        DriverOk = b::VIRTIO_CONFIG_S_DRIVER_OK as u8,
        /// Feature negotiation is complete (the device clears it to refuse).
        FeaturesOk = b::VIRTIO_CONFIG_S_FEATURES_OK as u8,
        /// The device hit an error it cannot recover from without a reset.
        NeedsReset = b::VIRTIO_CONFIG_S_NEEDS_RESET as u8,
        /// The driver gave up on the device.
        Failed = b::VIRTIO_CONFIG_S_FAILED as u8,
    }
);

impl Status {
    /// The status of a raw byte, as a driver or userspace wrote it (every
    /// bit kept, known or not).
    pub const fn from_raw(raw: u8) -> Self {
        Self(raw)
    }

    /// The raw byte.
    pub const fn raw(self) -> u8 {
        self.0
    }
}

/// A set of feature bits (virtio 1.3 section 2.2): bit `n` is feature `n`.
/// Feature numbers depend on the device type below 24 (see [`net`] and
/// [`blk`]), so one set type serves every device.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
#[repr(transparent)]
pub struct Features(u64);

impl Features {
    /// No feature.
    pub const EMPTY: Self = Self(0);

    /// The set holding feature number `n` (below 64, checked at build
    /// time).
    #[inline(always)]
    pub const fn bit(n: u32) -> Self {
        Self(kernel::bits::bit_u64(n))
    }

    /// The set of a raw mask, as a driver or userspace wrote it.
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw mask.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// Whether every feature of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The features of both sets (usable in `const`).
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl core::ops::BitOr for Features {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl core::ops::BitAnd for Features {
    type Output = Self;

    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

/// Compliance with virtio 1.0 and later (modern, little-endian).
pub const F_VERSION_1: Features = Features::bit(b::VIRTIO_F_VERSION_1);
/// The device sits behind an IOMMU / platform translation.
pub const F_ACCESS_PLATFORM: Features = Features::bit(b::VIRTIO_F_ACCESS_PLATFORM);
/// The packed ring layout (virtio 1.3 section 2.8).
pub const F_RING_PACKED: Features = Features::bit(b::VIRTIO_F_RING_PACKED);
/// Buffers are used in the order they were made available.
pub const F_IN_ORDER: Features = Features::bit(b::VIRTIO_F_IN_ORDER);
/// Driver notifications carry the available index (section 2.9).
pub const F_NOTIFICATION_DATA: Features = Features::bit(b::VIRTIO_F_NOTIFICATION_DATA);

/// Device id of a network card.
pub const ID_NET: u32 = b::VIRTIO_ID_NET;
/// Device id of a block device.
pub const ID_BLOCK: u32 = b::VIRTIO_ID_BLOCK;

/// Virtio-net (virtio 1.3 section 5.1).
pub mod net {
    use super::{
        b,
        Features, //
    };

    /// Feature: the device has a maximum MTU in `mtu`.
    pub const F_MTU: Features = Features::bit(b::VIRTIO_NET_F_MTU);
    /// Feature: the device has a MAC address in `mac`.
    pub const F_MAC: Features = Features::bit(b::VIRTIO_NET_F_MAC);
    /// Feature: `status` is valid.
    pub const F_STATUS: Features = Features::bit(b::VIRTIO_NET_F_STATUS);
    /// `status`: the link is up.
    pub const S_LINK_UP: u16 = b::VIRTIO_NET_S_LINK_UP as u16;
    /// Bytes of `struct virtio_net_hdr_v1`, which starts every buffer once
    /// `VIRTIO_F_VERSION_1` is negotiated.
    pub const HDR_LEN: usize = core::mem::size_of::<b::virtio_net_hdr_v1>();
    /// Byte offset of `num_buffers` (le16) in `struct virtio_net_hdr_v1`.
    pub const HDR_NUM_BUFFERS: usize = core::mem::offset_of!(b::virtio_net_hdr_v1, num_buffers);
    /// Byte offset of `mac` (6 bytes) in `struct virtio_net_config`.
    pub const CONFIG_MAC: usize = core::mem::offset_of!(b::virtio_net_config, mac);
    /// Byte offset of `status` (le16).
    pub const CONFIG_STATUS: usize = core::mem::offset_of!(b::virtio_net_config, status);
    /// Byte offset of `max_virtqueue_pairs` (le16).
    pub const CONFIG_MAX_VQ_PAIRS: usize =
        core::mem::offset_of!(b::virtio_net_config, max_virtqueue_pairs);
    /// Byte offset of `mtu` (le16).
    pub const CONFIG_MTU: usize = core::mem::offset_of!(b::virtio_net_config, mtu);
}

/// Virtio-blk (virtio 1.3 section 5.2).
pub mod blk {
    use super::{
        b,
        Features, //
    };

    /// Feature: `size_max` is valid.
    pub const F_SIZE_MAX: Features = Features::bit(b::VIRTIO_BLK_F_SIZE_MAX);
    /// Feature: `seg_max` is valid.
    pub const F_SEG_MAX: Features = Features::bit(b::VIRTIO_BLK_F_SEG_MAX);
    /// Feature: `blk_size` is valid.
    pub const F_BLK_SIZE: Features = Features::bit(b::VIRTIO_BLK_F_BLK_SIZE);
    /// Feature: the device takes [`RequestType::Flush`].
    pub const F_FLUSH: Features = Features::bit(b::VIRTIO_BLK_F_FLUSH);

    /// The type of a request (`struct virtio_blk_outhdr.type`), for the
    /// requests a device model here handles.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    #[repr(u32)]
    pub enum RequestType {
        /// Read (`VIRTIO_BLK_T_IN`).
        In = b::VIRTIO_BLK_T_IN,
        /// Write (`VIRTIO_BLK_T_OUT`).
        Out = b::VIRTIO_BLK_T_OUT,
        /// Flush (`VIRTIO_BLK_T_FLUSH`).
        Flush = b::VIRTIO_BLK_T_FLUSH,
        /// The device id string (`VIRTIO_BLK_T_GET_ID`).
        GetId = b::VIRTIO_BLK_T_GET_ID,
    }

    impl RequestType {
        /// The request type of a raw `type` field, `None` for any other.
        pub const fn from_raw(raw: u32) -> Option<Self> {
            match raw {
                b::VIRTIO_BLK_T_IN => Some(Self::In),
                b::VIRTIO_BLK_T_OUT => Some(Self::Out),
                b::VIRTIO_BLK_T_FLUSH => Some(Self::Flush),
                b::VIRTIO_BLK_T_GET_ID => Some(Self::GetId),
                _ => None,
            }
        }
    }

    /// The status byte a device writes at the end of a request.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    #[repr(u8)]
    pub enum RequestStatus {
        /// Success (`VIRTIO_BLK_S_OK`).
        Ok = b::VIRTIO_BLK_S_OK as u8,
        /// I/O error (`VIRTIO_BLK_S_IOERR`).
        IoErr = b::VIRTIO_BLK_S_IOERR as u8,
        /// Unsupported request (`VIRTIO_BLK_S_UNSUPP`).
        Unsupp = b::VIRTIO_BLK_S_UNSUPP as u8,
    }

    /// Bytes of the id string [`RequestType::GetId`] returns.
    pub const ID_BYTES: usize = b::VIRTIO_BLK_ID_BYTES as usize;
    /// Bytes of `struct virtio_blk_outhdr` (type, ioprio, sector), the
    /// device-readable head of every request.
    pub const OUTHDR_LEN: usize = core::mem::size_of::<b::virtio_blk_outhdr>();
    /// Bytes of a sector: the unit of `capacity` and of `sector`.
    pub const SECTOR_SIZE: u64 = 512;
    /// Byte offset of `capacity` (le64, in sectors) in `struct virtio_blk_config`.
    pub const CONFIG_CAPACITY: usize = core::mem::offset_of!(b::virtio_blk_config, capacity);
    /// Byte offset of `size_max` (le32).
    pub const CONFIG_SIZE_MAX: usize = core::mem::offset_of!(b::virtio_blk_config, size_max);
    /// Byte offset of `seg_max` (le32).
    pub const CONFIG_SEG_MAX: usize = core::mem::offset_of!(b::virtio_blk_config, seg_max);
    /// Byte offset of `blk_size` (le32).
    pub const CONFIG_BLK_SIZE: usize = core::mem::offset_of!(b::virtio_blk_config, blk_size);
}
