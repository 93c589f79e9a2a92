/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel uAPI headers that the vdev crate binds itself (virtio constants and
 * config layouts): the kernel crate's bindings do not cover them. Kbuild runs
 * bindgen on this file with the allowlist of `rmdev_bindgen_allow_vdev`; the
 * result is rust/vdev/bindings_generated.rs, included by rust/vdev/bindings.rs.
 */

#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_net.h>
#include <uapi/linux/virtio_blk.h>
