// SPDX-License-Identifier: GPL-2.0

//! Virtio constants that device models and class drivers share, taken from
//! the kernel's uAPI headers through the project's bindgen run (so they
//! cannot drift from the C definitions).
//!
//! Sources: [`include/uapi/linux/virtio_config.h`](srctree/include/uapi/linux/virtio_config.h),
//! [`virtio_ids.h`](srctree/include/uapi/linux/virtio_ids.h),
//! [`virtio_net.h`](srctree/include/uapi/linux/virtio_net.h),
//! [`virtio_blk.h`](srctree/include/uapi/linux/virtio_blk.h); virtio 1.3
//! sections 2.1 (status), 2.2 (feature bits), 5.1 (network device) and 5.2
//! (block device).

use crate::bindings as b;

/// The mask of feature bit `n` (a bit number below 64).
pub const fn bit(n: u32) -> u64 {
    1u64 << n
}

/// Vendor id the device models report (`VIRTIO_DEV_ANY_ID` is not a
/// vendor; mainline's simulators report 0, as we do).
pub const VENDOR_ID: u32 = 0;

// Device status (virtio 1.3 section 2.1), one byte.

/// The guest OS has noticed the device.
pub const S_ACKNOWLEDGE: u8 = b::VIRTIO_CONFIG_S_ACKNOWLEDGE as u8;
/// The guest OS knows how to drive the device.
pub const S_DRIVER: u8 = b::VIRTIO_CONFIG_S_DRIVER as u8;
/// The driver is set up and ready to drive the device.
pub const S_DRIVER_OK: u8 = b::VIRTIO_CONFIG_S_DRIVER_OK as u8;
/// Feature negotiation is complete (the device clears it to refuse).
pub const S_FEATURES_OK: u8 = b::VIRTIO_CONFIG_S_FEATURES_OK as u8;
/// The device hit an error it cannot recover from without a reset.
pub const S_NEEDS_RESET: u8 = b::VIRTIO_CONFIG_S_NEEDS_RESET as u8;
/// The driver gave up on the device.
pub const S_FAILED: u8 = b::VIRTIO_CONFIG_S_FAILED as u8;

// Transport-independent feature bits (bit numbers).

/// Compliance with virtio 1.0 and later (modern, little-endian).
pub const F_VERSION_1: u32 = b::VIRTIO_F_VERSION_1;
/// The device sits behind an IOMMU / platform translation.
pub const F_ACCESS_PLATFORM: u32 = b::VIRTIO_F_ACCESS_PLATFORM;

/// Device id of a network card.
pub const ID_NET: u32 = b::VIRTIO_ID_NET;
/// Device id of a block device.
pub const ID_BLOCK: u32 = b::VIRTIO_ID_BLOCK;

/// Virtio-net (virtio 1.3 section 5.1).
pub mod net {
    use super::b;

    /// Feature bit: the device has a maximum MTU in `mtu`.
    pub const F_MTU: u32 = b::VIRTIO_NET_F_MTU;
    /// Feature bit: the device has a MAC address in `mac`.
    pub const F_MAC: u32 = b::VIRTIO_NET_F_MAC;
    /// Feature bit: `status` is valid.
    pub const F_STATUS: u32 = b::VIRTIO_NET_F_STATUS;
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
    pub const CONFIG_MAX_VQ_PAIRS: usize = core::mem::offset_of!(b::virtio_net_config, max_virtqueue_pairs);
    /// Byte offset of `mtu` (le16).
    pub const CONFIG_MTU: usize = core::mem::offset_of!(b::virtio_net_config, mtu);
}

/// Virtio-blk (virtio 1.3 section 5.2).
pub mod blk {
    use super::b;

    /// Feature bit: `size_max` is valid.
    pub const F_SIZE_MAX: u32 = b::VIRTIO_BLK_F_SIZE_MAX;
    /// Feature bit: `seg_max` is valid.
    pub const F_SEG_MAX: u32 = b::VIRTIO_BLK_F_SEG_MAX;
    /// Feature bit: `blk_size` is valid.
    pub const F_BLK_SIZE: u32 = b::VIRTIO_BLK_F_BLK_SIZE;
    /// Feature bit: the device takes `VIRTIO_BLK_T_FLUSH`.
    pub const F_FLUSH: u32 = b::VIRTIO_BLK_F_FLUSH;
    /// Request type: read.
    pub const T_IN: u32 = b::VIRTIO_BLK_T_IN;
    /// Request type: write.
    pub const T_OUT: u32 = b::VIRTIO_BLK_T_OUT;
    /// Request type: flush.
    pub const T_FLUSH: u32 = b::VIRTIO_BLK_T_FLUSH;
    /// Request type: device id string.
    pub const T_GET_ID: u32 = b::VIRTIO_BLK_T_GET_ID;
    /// Request status: success.
    pub const S_OK: u8 = b::VIRTIO_BLK_S_OK as u8;
    /// Request status: I/O error.
    pub const S_IOERR: u8 = b::VIRTIO_BLK_S_IOERR as u8;
    /// Request status: unsupported request.
    pub const S_UNSUPP: u8 = b::VIRTIO_BLK_S_UNSUPP as u8;
    /// Bytes of the id string `VIRTIO_BLK_T_GET_ID` returns.
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
