// SPDX-License-Identifier: GPL-2.0
/*
 * Exports the Rust symbols of the `mdev` crate to the modules that use it
 * (the recipe of drivers/gpu/Makefile for nova-core, and of rust/exports.c).
 * The list is generated from the crate's object by Kbuild.
 */

#include <linux/export.h>

#define EXPORT_SYMBOL_RUST_GPL(sym) extern int sym; EXPORT_SYMBOL_GPL(sym)

#include "exports_mdev_generated.h"
