#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the selftests and samples, static, against the uAPI headers of
# our kernel ("make headers", run by scripts/kernel.sh), into
# $OUT/selftests and $OUT/samples for the initramfs. ARCH=arm64 builds
# them with $CROSS_COMPILE (see env.sh) and the arm64 liburing that
# scripts/deps.sh unpacked.
set -euo pipefail
. "$(dirname "$0")/env.sh"

HDR=$KOBJ/usr/include
# IOMMUFD_ONLY=1: only the kernel's iommufd suite (below), for a kernel
# without /dev/ioasid (series-check runs it on the unpatched base)
if [ "${IOMMUFD_ONLY:-}" = 1 ]; then
	[ -f "$HDR/linux/iommufd.h" ] || die "no $HDR/linux/iommufd.h: make headers"
else
	[ -f "$HDR/linux/ioasid_fd.h" ] || die "no $HDR/linux/ioasid_fd.h: run 'make kernel'"
fi

mkdir -p "$OUT/selftests" "$OUT/samples"
URING_CFLAGS=''
URING_LDFLAGS=''
if [ "${ARCH:-}" = arm64 ]; then
	URING=$CACHE/arm64-userland/usr
	[ -f "$URING/lib/aarch64-linux-gnu/liburing.a" ] ||
		die "no arm64 liburing in $URING: run 'ARCH=arm64 scripts/deps.sh'"
	URING_CFLAGS="-isystem $URING/include"
	URING_LDFLAGS="-L$URING/lib/aarch64-linux-gnu"
fi
# The kernel's own iommufd selftests (tools/testing/selftests/iommu),
# from the same tree (IOMMUFD_SRC, for series-check's base), run by
# check.sh in the noiommu boot: their Makefile and lib.mk as they are,
# the kernel's headers, and the names of newer uAPI their helpers use
# (scripts/iommufd-compat.h). x86 only: the rig's arm64 kernel has no
# CONFIG_IOMMUFD_TEST.
if [ "${ARCH:-}" != arm64 ]; then
	make -s -C "${IOMMUFD_SRC:-$KSRC}/tools/testing/selftests/iommu" \
		OUTPUT="$OUT/selftests" KHDR_INCLUDES="-isystem $HDR" \
		USERCFLAGS="-include $TOP/scripts/iommufd-compat.h" \
		USERLDFLAGS="-static"
fi
[ "${IOMMUFD_ONLY:-}" = 1 ] && exit 0

# The selftest directory is linked into the kernel tree by kernel.sh, so
# that it builds with the kernel's own lib.mk and kselftest_harness.h.
make -s -C "$KSRC/tools/testing/selftests/ioasid_fd" \
	OUTPUT="$OUT/selftests" KHDR_INCLUDES="-isystem $HDR" \
	USERCFLAGS="$URING_CFLAGS" USERLDFLAGS="-static $URING_LDFLAGS"

# Is $1 newer than this script and than every file gcc read to build it,
# as listed in the dependency file $2?
up_to_date()
{
	local dep

	[ -f "$1" ] && [ -f "$2" ] && [ "$1" -nt "$0" ] || return 1
	for dep in $(sed -e '1s/^[^:]*://' -e 's/\\$//' "$2"); do
		[ -e "$dep" ] && [ "$1" -nt "$dep" ] || return 1
	done
}

# The samples' kbuild Makefile needs CONFIG_SAMPLES; build them directly.
# They read event queues with io_uring (liburing-dev: static liburing).
for c in "$TOP"/samples/ioasid_fd/*.c; do
	n=$(basename "$c" .c)
	b=$OUT/samples/$n
	d=$OUT/samples/.$n.d
	up_to_date "$b" "$d" && continue
	# shellcheck disable=SC2086
	"${CROSS_COMPILE:-}gcc" -O2 -Wall -Werror -static -isystem "$HDR" \
		$URING_CFLAGS -MD -MF "$d" -o "$b" "$c" $URING_LDFLAGS -luring
done
