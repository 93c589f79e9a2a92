/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel headers that the vhost crate binds itself: the kernel crate's
 * bindings (rust/bindings/bindings_helper.h of the tree) do not cover them.
 * Kbuild runs bindgen on this file with the kernel's own flags and the
 * allowlist of `rmdev_bindgen_allow_vhost`; the result is
 * rust/vhost/bindings_generated.rs, included by rust/vhost/bindings.rs.
 */

#include <linux/vhost_iotlb.h>
#include <linux/vringh.h>
#include <uapi/linux/vhost_types.h>
#include <uapi/linux/virtio_ring.h>
