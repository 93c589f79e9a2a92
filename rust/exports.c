// SPDX-License-Identifier: GPL-2.0
/*
 * Exports the Rust symbols of one library crate to the modules that use it
 * (the recipe of drivers/gpu/nova-core/nova_core_exports.c and of
 * rust/exports.c in the kernel). Each crate builds this file through a
 * symlink `rust/<crate>/<crate>_exports.c`; Kbuild generates the crate's
 * list, `exports_generated.h` next to it, from what other modules use.
 */

#include <linux/export.h>

#define EXPORT_SYMBOL_RUST_GPL(sym) extern int sym; EXPORT_SYMBOL_GPL(sym)

#include "exports_generated.h"
