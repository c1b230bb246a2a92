#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the selftests and samples, static, against the uAPI headers of
# our kernel ("make headers", run by scripts/kernel.sh), into
# $OUT/selftests and $OUT/samples for the initramfs.
set -euo pipefail
. "$(dirname "$0")/env.sh"

HDR=$KOBJ/usr/include
[ -f "$HDR/linux/ioasid_fd.h" ] || die "no $HDR/linux/ioasid_fd.h: run 'make kernel'"

mkdir -p "$OUT/selftests" "$OUT/samples"
# The selftest directory is linked into the kernel tree by kernel.sh, so
# that it builds with the kernel's own lib.mk and kselftest_harness.h.
make -s -C "$KSRC/tools/testing/selftests/ioasid_fd" \
	OUTPUT="$OUT/selftests" KHDR_INCLUDES="-isystem $HDR" \
	USERLDFLAGS=-static
# The samples' kbuild Makefile needs CONFIG_SAMPLES; build them directly.
for c in "$TOP"/samples/ioasid_fd/*.c; do
	b=$OUT/samples/$(basename "$c" .c)
	[ "$b" -nt "$c" ] && [ "$b" -nt "$HDR/linux/ioasid_fd.h" ] && continue
	gcc -O2 -Wall -Werror -static -isystem "$HDR" -o "$b" "$c"
done
