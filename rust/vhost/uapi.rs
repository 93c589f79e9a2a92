// SPDX-License-Identifier: GPL-2.0

//! The vhost-vdpa uAPI: ioctl numbers and backend feature bits.
//!
//! C header: [`include/uapi/linux/vhost.h`](srctree/include/uapi/linux/vhost.h)
//! and [`include/uapi/linux/vhost_types.h`](srctree/include/uapi/linux/vhost_types.h).
//! bindgen does not expand the `_IOW()` macros, so the numbers are computed
//! here with [`kernel::ioctl`], from the sizes of the bound uAPI structs.

use crate::bindings as b;
use core::mem::size_of;
use kernel::ioctl::{
    _IO,
    _IOR,
    _IOW,
    _IOWR, //
};

/// The vhost ioctl type (`VHOST_VIRTIO`).
const T: u32 = 0xAF;

/// `VHOST_GET_FEATURES`: the device's feature bits (`u64`).
pub const GET_FEATURES: u32 = _IOR::<u64>(T, 0x00);
/// `VHOST_SET_FEATURES`: the driver's feature bits (`u64`).
pub const SET_FEATURES: u32 = _IOW::<u64>(T, 0x00);
/// `VHOST_SET_OWNER`: the caller's mm owns the device.
pub const SET_OWNER: u32 = _IO(T, 0x01);
/// `VHOST_RESET_OWNER` (vhost-net only; not a vhost-vdpa command).
pub const RESET_OWNER: u32 = _IO(T, 0x02);
/// `VHOST_SET_MEM_TABLE` (`struct vhost_memory`): accepted, unused by vhost-vdpa.
pub const SET_MEM_TABLE: u32 = _IOW::<b::vhost_memory>(T, 0x03);
/// `VHOST_SET_LOG_BASE` (`u64`).
pub const SET_LOG_BASE: u32 = _IOW::<u64>(T, 0x04);
/// `VHOST_SET_LOG_FD` (`int`).
pub const SET_LOG_FD: u32 = _IOW::<i32>(T, 0x07);
/// `VHOST_SET_VRING_NUM` (`struct vhost_vring_state`).
pub const SET_VRING_NUM: u32 = _IOW::<b::vhost_vring_state>(T, 0x10);
/// `VHOST_SET_VRING_ADDR` (`struct vhost_vring_addr`).
pub const SET_VRING_ADDR: u32 = _IOW::<b::vhost_vring_addr>(T, 0x11);
/// `VHOST_SET_VRING_BASE` (`struct vhost_vring_state`).
pub const SET_VRING_BASE: u32 = _IOW::<b::vhost_vring_state>(T, 0x12);
/// `VHOST_GET_VRING_BASE` (`struct vhost_vring_state`).
pub const GET_VRING_BASE: u32 = _IOWR::<b::vhost_vring_state>(T, 0x12);
/// `VHOST_SET_VRING_ENDIAN` (`struct vhost_vring_state`).
pub const SET_VRING_ENDIAN: u32 = _IOW::<b::vhost_vring_state>(T, 0x13);
/// `VHOST_GET_VRING_ENDIAN` (`struct vhost_vring_state`; `_IOW` in the header too).
pub const GET_VRING_ENDIAN: u32 = _IOW::<b::vhost_vring_state>(T, 0x14);
/// `VHOST_SET_VRING_KICK` (`struct vhost_vring_file`).
pub const SET_VRING_KICK: u32 = _IOW::<b::vhost_vring_file>(T, 0x20);
/// `VHOST_SET_VRING_CALL` (`struct vhost_vring_file`).
pub const SET_VRING_CALL: u32 = _IOW::<b::vhost_vring_file>(T, 0x21);
/// `VHOST_SET_VRING_ERR` (`struct vhost_vring_file`).
pub const SET_VRING_ERR: u32 = _IOW::<b::vhost_vring_file>(T, 0x22);
/// `VHOST_FILE_UNBIND`: the `fd` of a `struct vhost_vring_file` (or of
/// `VHOST_VDPA_SET_CONFIG_CALL`) that unsets the eventfd.
pub const FILE_UNBIND: i32 = -1;
/// `VHOST_SET_VRING_BUSYLOOP_TIMEOUT` (`struct vhost_vring_state`).
pub const SET_VRING_BUSYLOOP_TIMEOUT: u32 = _IOW::<b::vhost_vring_state>(T, 0x23);
/// `VHOST_GET_VRING_BUSYLOOP_TIMEOUT` (`struct vhost_vring_state`; `_IOW` in the header too).
pub const GET_VRING_BUSYLOOP_TIMEOUT: u32 = _IOW::<b::vhost_vring_state>(T, 0x24);
/// `VHOST_SET_BACKEND_FEATURES` (`u64`).
pub const SET_BACKEND_FEATURES: u32 = _IOW::<u64>(T, 0x25);
/// `VHOST_GET_BACKEND_FEATURES` (`u64`).
pub const GET_BACKEND_FEATURES: u32 = _IOR::<u64>(T, 0x26);
/// `VHOST_VDPA_GET_DEVICE_ID` (`u32`).
pub const VDPA_GET_DEVICE_ID: u32 = _IOR::<u32>(T, 0x70);
/// `VHOST_VDPA_GET_STATUS` (`u8`).
pub const VDPA_GET_STATUS: u32 = _IOR::<u8>(T, 0x71);
/// `VHOST_VDPA_SET_STATUS` (`u8`).
pub const VDPA_SET_STATUS: u32 = _IOW::<u8>(T, 0x72);
/// `VHOST_VDPA_GET_CONFIG` (`struct vhost_vdpa_config` + buffer).
pub const VDPA_GET_CONFIG: u32 = _IOR::<b::vhost_vdpa_config>(T, 0x73);
/// `VHOST_VDPA_SET_CONFIG` (`struct vhost_vdpa_config` + buffer).
pub const VDPA_SET_CONFIG: u32 = _IOW::<b::vhost_vdpa_config>(T, 0x74);
/// `VHOST_VDPA_SET_VRING_ENABLE` (`struct vhost_vring_state`).
pub const VDPA_SET_VRING_ENABLE: u32 = _IOW::<b::vhost_vring_state>(T, 0x75);
/// `VHOST_VDPA_GET_VRING_NUM` (`u16`): the largest queue size.
pub const VDPA_GET_VRING_NUM: u32 = _IOR::<u16>(T, 0x76);
/// `VHOST_VDPA_SET_CONFIG_CALL` (`int`).
pub const VDPA_SET_CONFIG_CALL: u32 = _IOW::<i32>(T, 0x77);
/// `VHOST_VDPA_GET_IOVA_RANGE` (`struct vhost_vdpa_iova_range`).
pub const VDPA_GET_IOVA_RANGE: u32 = _IOR::<b::vhost_vdpa_iova_range>(T, 0x78);
/// `VHOST_VDPA_GET_CONFIG_SIZE` (`u32`).
pub const VDPA_GET_CONFIG_SIZE: u32 = _IOR::<u32>(T, 0x79);
/// `VHOST_VDPA_GET_AS_NUM` (`unsigned int`).
pub const VDPA_GET_AS_NUM: u32 = _IOR::<u32>(T, 0x7A);
/// `VHOST_VDPA_GET_VRING_GROUP` (`struct vhost_vring_state`).
pub const VDPA_GET_VRING_GROUP: u32 = _IOWR::<b::vhost_vring_state>(T, 0x7B);
/// `VHOST_VDPA_SET_GROUP_ASID` (`struct vhost_vring_state`).
pub const VDPA_SET_GROUP_ASID: u32 = _IOW::<b::vhost_vring_state>(T, 0x7C);
/// `VHOST_VDPA_SUSPEND`.
pub const VDPA_SUSPEND: u32 = _IO(T, 0x7D);
/// `VHOST_VDPA_RESUME`.
pub const VDPA_RESUME: u32 = _IO(T, 0x7E);
/// `VHOST_VDPA_GET_VRING_DESC_GROUP` (`struct vhost_vring_state`).
pub const VDPA_GET_VRING_DESC_GROUP: u32 = _IOWR::<b::vhost_vring_state>(T, 0x7F);
/// `VHOST_VDPA_GET_VQS_COUNT` (`u32`).
pub const VDPA_GET_VQS_COUNT: u32 = _IOR::<u32>(T, 0x80);
/// `VHOST_VDPA_GET_GROUP_NUM` (`u32`).
pub const VDPA_GET_GROUP_NUM: u32 = _IOR::<u32>(T, 0x81);
/// `VHOST_VDPA_GET_VRING_SIZE` (`struct vhost_vring_state`).
pub const VDPA_GET_VRING_SIZE: u32 = _IOWR::<b::vhost_vring_state>(T, 0x82);

/// Size of a `struct vhost_vring_addr`, bytes.
pub const VRING_ADDR: usize = size_of::<b::vhost_vring_addr>();
/// `VHOST_VRING_F_LOG`: the used ring is logged (the only flag).
pub const VRING_F_LOG: u32 = 1 << b::VHOST_VRING_F_LOG;

/// Size of the header of `struct vhost_vdpa_config` (`off`, `len`), bytes.
pub const VDPA_CONFIG_HDR: usize = size_of::<b::vhost_vdpa_config>();
/// Size of the header of `struct vhost_memory` (`nregions`, `padding`), bytes.
pub const MEMORY_HDR: usize = size_of::<b::vhost_memory>();
/// Size of a `struct vhost_memory_region`, bytes.
pub const MEMORY_REGION: usize = size_of::<b::vhost_memory_region>();

/// A backend feature bit (`VHOST_BACKEND_F_*`), as a mask.
const fn bf(bit: u32) -> u64 {
    1 << bit
}

/// `VHOST_BACKEND_F_IOTLB_MSG_V2`.
pub const F_IOTLB_MSG_V2: u64 = bf(b::VHOST_BACKEND_F_IOTLB_MSG_V2);
/// `VHOST_BACKEND_F_IOTLB_BATCH`.
pub const F_IOTLB_BATCH: u64 = bf(b::VHOST_BACKEND_F_IOTLB_BATCH);
/// `VHOST_BACKEND_F_IOTLB_ASID`.
pub const F_IOTLB_ASID: u64 = bf(b::VHOST_BACKEND_F_IOTLB_ASID);
/// `VHOST_BACKEND_F_SUSPEND`.
pub const F_SUSPEND: u64 = bf(b::VHOST_BACKEND_F_SUSPEND);
/// `VHOST_BACKEND_F_RESUME`.
pub const F_RESUME: u64 = bf(b::VHOST_BACKEND_F_RESUME);
/// `VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK`.
pub const F_ENABLE_AFTER_DRIVER_OK: u64 = bf(b::VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
/// `VHOST_BACKEND_F_DESC_ASID`.
pub const F_DESC_ASID: u64 = bf(b::VHOST_BACKEND_F_DESC_ASID);
/// `VHOST_BACKEND_F_IOTLB_PERSIST`.
pub const F_IOTLB_PERSIST: u64 = bf(b::VHOST_BACKEND_F_IOTLB_PERSIST);
/// Every backend feature bit vhost-vdpa knows (`vhost_vdpa_unlocked_ioctl()`).
pub const F_KNOWN: u64 = F_IOTLB_MSG_V2
    | F_IOTLB_BATCH
    | F_IOTLB_ASID
    | F_SUSPEND
    | F_RESUME
    | F_ENABLE_AFTER_DRIVER_OK
    | F_DESC_ASID
    | F_IOTLB_PERSIST;

/// `VHOST_IOTLB_MSG`: a `struct vhost_msg` (v1) follows the type.
pub const IOTLB_MSG: u32 = 0x1;
/// `VHOST_IOTLB_MSG_V2`: a `struct vhost_msg_v2` (the type, then the
/// address space id).
pub const IOTLB_MSG_V2: u32 = 0x2;
/// The size a `write()` of an IOTLB message returns (`struct vhost_msg`
/// and `struct vhost_msg_v2` alike), bytes.
pub const IOTLB_MSG_SIZE: usize = size_of::<b::vhost_msg_v2>();
/// Size of a `struct vhost_iotlb_msg`, bytes.
pub const IOTLB_BODY: usize = size_of::<b::vhost_iotlb_msg>();
/// `VHOST_IOTLB_UPDATE`.
pub const IOTLB_UPDATE: u8 = b::VHOST_IOTLB_UPDATE as u8;
/// `VHOST_IOTLB_INVALIDATE`.
pub const IOTLB_INVALIDATE: u8 = b::VHOST_IOTLB_INVALIDATE as u8;
/// `VHOST_IOTLB_BATCH_BEGIN`.
pub const IOTLB_BATCH_BEGIN: u8 = b::VHOST_IOTLB_BATCH_BEGIN as u8;
/// `VHOST_IOTLB_BATCH_END`.
pub const IOTLB_BATCH_END: u8 = b::VHOST_IOTLB_BATCH_END as u8;
