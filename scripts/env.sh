# SPDX-License-Identifier: GPL-2.0
# Sourced by the rig scripts: where things live. Every path can be
# overridden from the environment or the make command line.

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ioasid-fd}
KTARBALL=${KTARBALL:-/usr/src/linux-source-6.12.tar.xz}
KSRC=${KSRC:-$CACHE/linux-source-6.12}
# DEBUG=1: the debug kernel (scripts/debug.config on top of the normal
# fragments), built and run beside the normal one, from the same $KSRC
[ "${DEBUG:-}" = 1 ] || DEBUG=
# ARCH=arm64 (make check-arm64): an arm64 kernel from the same $KSRC,
# cross-built for QEMU's virt machine with an SMMUv3, with its own build
# and output directories. Any other ARCH is the x86 rig's.
if [ "${ARCH:-}" = arm64 ]; then
	export CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
	KOBJ=${KOBJ:-$CACHE/build-arm64}
	OUT=${OUT:-$CACHE/out-arm64}
fi
if [ -n "$DEBUG" ]; then
	KOBJ=${KOBJ:-$CACHE/build-debug}
	OUT=${OUT:-$CACHE/out-debug}
fi
KOBJ=${KOBJ:-$CACHE/build}
JOBS=${JOBS:-$(($(nproc) + 1))}
# Test binaries, initramfs and logs of the last run
OUT=${OUT:-$CACHE/out}

die()
{
	echo "$(basename "$0"): $*" >&2
	exit 1
}
