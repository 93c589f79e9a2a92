// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the mdev crate: kernel macros given a function so Rust can
 * use them (as rust/helpers/ does for the kernel crate). Used only inside
 * rmdev_mdev.ko, hence not exported.
 */

#include <linux/ratelimit.h>

bool rmdev_mdev_refusals_ratelimit(void);

/* The refused-create messages: the kernel's default burst, 10 per 5 s. */
static DEFINE_RATELIMIT_STATE(rmdev_mdev_refusals, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

bool rmdev_mdev_refusals_ratelimit(void)
{
	return __ratelimit(&rmdev_mdev_refusals);
}
