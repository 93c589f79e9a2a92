/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel headers that the virtio crate binds itself (the virtio core's device
 * and virtqueue types, its transport ops, virtio_ring's exported functions):
 * the kernel crate's bindings do not cover them. Kbuild runs bindgen on this
 * file; the result is rust/virtio/bindings_generated.rs, included by
 * rust/virtio/bindings.rs.
 */

#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
