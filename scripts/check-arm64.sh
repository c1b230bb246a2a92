#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-arm64: make check (scripts/check.sh) for an arm64 kernel of
# the same tree, cross-built with Debian's gcc-aarch64-linux-gnu from
# tinyconfig + the selftests' config + scripts/arm64.config into
# $CACHE/build-arm64, booted under QEMU (TCG) on the virt machine with a
# GICv3 ITS and an SMMUv3 and the four edus on its PCIe root bus (the
# smmuv3 profile of scripts/vm.sh), the selftests cross-built static into
# $CACHE/out-arm64. Prints the time of each phase and ends with
# "N passed, N failed"; exits non-zero on any failure.
#
# T and ARGS work as in make check; KOBJ and OUT override the
# directories. The one boot runs every test program, as make check's
# default profile does (about 4.5 minutes); what needs something
# SMMUv3 or the machine does not have skips, saying why.
set -euo pipefail

export ARCH=arm64
export PROFILES=smmuv3
exec "$(dirname "$0")/check.sh"
