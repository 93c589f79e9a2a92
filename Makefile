# SPDX-License-Identifier: GPL-2.0
#
# rmdev user entry points. Kbuild reads ./Kbuild; this file is for people.
#
#   make setup          install the toolchain, fetch Linux 7.3, build the test kernel
#   make                build the modules (KDIR= any Rust-enabled 7.3 build tree)
#   make demo           boot the test kernel, load the modules, show devices and drivers
#   make check          run the whole test suite in the test kernel
#   make bench          benchmarks against the mainline C anchors (tools/bench)
#   make vm CMD='...'   run a command in the test kernel (work tree at the same path)
#   make modversions-check  build the modules against a second tree with CONFIG_MODVERSIONS=y
#   make rustfmtcheck   check the Rust formatting (the kernel's rustfmt rules)
#   make rustfmt        format the Rust sources
#   make clean

SHELL := /bin/bash
top := $(CURDIR)
RMDEV_CACHE ?= $(HOME)/.cache/rmdev
BENCH ?= mdev virtio vhost
export RMDEV_CACHE

# Our own warnings are errors unless WERROR=0.
WERROR ?= 1
ifeq ($(WERROR),1)
rmdev_werror := KCFLAGS=-Werror KRUSTFLAGS=-Dwarnings
endif

RUSTC ?= /usr/bin/rustc
# Our Rust is linted with the clippy of the same toolchain (the kernel's
# `CLIPPY=1`) whenever it is installed; `make CLIPPY=` turns it off.
CLIPPY_DRIVER ?= /usr/bin/clippy-driver
CLIPPY ?= $(if $(wildcard $(CLIPPY_DRIVER)),1)
kbuild_env = set -e; . $(RMDEV_CACHE)/env.sh; export LIBCLANG_PATH; \
	kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir=$$(tools/kernel.sh);
kbuild = $(MAKE) -C "$$kdir" M=$(top) RUSTC=$(RUSTC) BINDGEN="$$BINDGEN" $(rmdev_werror) \
	$(if $(CLIPPY),CLIPPY=1 CLIPPY_DRIVER=$(CLIPPY_DRIVER))

# The kernel's formatting rules: default rustfmt with its .rustfmt.toml
# (copied here, so the check needs no kernel tree), imports laid out
# vertically (Documentation/rust/coding-guidelines.rst).
RUSTFMT ?= $(firstword $(wildcard /usr/bin/rustfmt) rustfmt)
rust_sources = $(shell git ls-files '*.rs' 2>/dev/null)

.PHONY: all modules setup demo check bench vm clean kernel rustfmt rustfmtcheck modversions-check

all: modules

setup:
	@tools/setup.sh
	@tools/kernel.sh >/dev/null

kernel: setup

modules:
	@if [ -z "$(KDIR)" ] || [ ! -f $(RMDEV_CACHE)/env.sh ]; then tools/setup.sh; fi
	@$(kbuild_env) $(kbuild) modules

demo: modules
	@tools/testing/vm.sh --demo

check: modules
	@tools/testing/vm.sh --check

# The benchmarks (BENCH: which of tools/bench/*_bench.sh) run in a kernel of
# their own (tools/testing/kconfig/bench/:
# the test kernel without its debugging, with pktgen), with the modules
# built against it in a copy of the work tree.
bench:
	@tools/setup.sh
	@set -e; kdir=$$(tools/kernel.sh bench); tree=$(RMDEV_CACHE)/bench/tree; \
	rm -rf "$$tree"; mkdir -p "$$tree"; \
	git ls-files -co --exclude-standard | cpio -pd --quiet "$$tree"; \
	$(MAKE) -s -C "$$tree" KDIR="$$kdir" modules; \
	RMDEV_FLAVOUR=bench "$$tree/tools/testing/vm.sh" --cmd \
		'for b in $(BENCH); do bash tools/bench/$${b}_bench.sh || exit; done'

vm: modules
	@tools/testing/vm.sh --cmd '$(CMD)'

# Proves KDIR=: builds a second kernel tree (the test kernel's config plus
# CONFIG_MODVERSIONS=y, tools/testing/kconfig/modversions/) and the modules
# against it, in a copy of the work tree, and shows each module's versions.
modversions-check:
	@tools/setup.sh
	@set -e; kdir=$$(tools/kernel.sh modversions); tmp=$$(mktemp -d); \
	trap 'rm -rf "$$tmp"' EXIT; \
	git ls-files -co --exclude-standard | cpio -pdm --quiet "$$tmp"; \
	$(MAKE) -s -C "$$tmp" KDIR="$$kdir" modules; \
	for m in $$(cd "$$tmp" && find . -name '*.ko' | sort); do \
		n=$$(modprobe --dump-modversions "$$tmp/$$m" | wc -l); \
		printf '%s: %s symbol versions, depends=%s\n' "$${m##*/}" "$$n" \
			"$$(modinfo -F depends "$$tmp/$$m")"; \
		[ "$$n" -gt 0 ]; \
	done; echo "modversions-check: all modules built with symbol versions"

rustfmtcheck:
	@$(RUSTFMT) --check --edition 2021 --config-path .rustfmt.toml $(rust_sources) && \
		echo "rustfmt: $(words $(rust_sources)) files formatted"

rustfmt:
	@$(RUSTFMT) --edition 2021 --config-path .rustfmt.toml $(rust_sources)

clean:
	@$(kbuild_env) $(kbuild) clean
