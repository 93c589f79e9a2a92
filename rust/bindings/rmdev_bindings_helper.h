/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C headers of the kernel that rmdev binds itself: the kernel crate's
 * bindings (rust/bindings/bindings_helper.h of the tree) do not cover them.
 * Kbuild runs bindgen on this file with the kernel's own flags and an
 * allowlist (see Kbuild, `rmdev_bindgen`); the result is
 * rust/bindings/rmdev_bindings_generated.rs, included by rust/bindings/rmdev_bindings.rs.
 */

#include <linux/vhost_iotlb.h>
#include <linux/vringh.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <uapi/linux/vhost.h>
#include <uapi/linux/vhost_types.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_net.h>
#include <uapi/linux/virtio_blk.h>
