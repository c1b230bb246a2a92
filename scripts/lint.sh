#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: everything must be clean.
#  - checkpatch.pl --strict on our C files, headers and patches/;
#  - sparse (C=2) on the core and our VFIO files, in the kernel build;
#  - kernel-doc on the uAPI and kAPI headers and the core.
set -uo pipefail
. "$(dirname "$0")/env.sh"

"$TOP/scripts/kernel.sh" prepare > /dev/null || die "cannot prepare $KSRC"
cd "$TOP" || exit 1
rc=0

mapfile -t csrc < <(git ls-files --cached --others --exclude-standard \
	'drivers/*.[ch]' 'include/*.h' 'samples/*.[ch]' \
	'tools/testing/selftests/*.[ch]')
mapfile -t patches < <(ls patches/*.patch 2>/dev/null)

echo "lint: checkpatch (${#csrc[@]} files, ${#patches[@]} patches)"
# MACRO_ARG_REUSE: our macros that name an argument twice take types,
# fields and constants (IOCTL_OP, TEST_LENGTH), which have no side effects.
CP=("$KSRC/scripts/checkpatch.pl" --strict --quiet --no-summary --show-types
    --no-tree --ignore MACRO_ARG_REUSE)
for f in "${csrc[@]}"; do
	case $f in
	# A test skips on ENOSYS, which there means what it should: no
	# such system call (io_uring compiled out)
	tools/*) "${CP[@]}" --ignore ENOSYS -f "$f" || rc=1 ;;
	*) "${CP[@]}" -f "$f" || rc=1 ;;
	esac
done
# Through stdin: checkpatch treats a git-tracked file name as a source
# file (-f), even when it is a patch.
for p in "${patches[@]}"; do
	"${CP[@]}" - < "$p" | sed "s|^#\([0-9]*\): FILE: -|$p:\1|" || rc=1
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
done

echo "lint: kernel-doc"
out=$("$KSRC/scripts/kernel-doc" -Wall -none include/uapi/linux/*.h \
	include/linux/*.h drivers/iommu/ioasid/*.c drivers/vfio/*.c 2>&1)
if [ -n "$out" ]; then
	echo "$out"
	rc=1
fi

echo "lint: sparse"
if [ -f "$KOBJ/.config" ]; then
	# Our new files only: upstream VFIO has sparse warnings of its own
	targets=(drivers/iommu/ioasid/ drivers/vfio/ioasid.o)
	out=$(make -s -C "$KSRC" O="$KOBJ" -j"$JOBS" C=2 "${targets[@]}" 2>&1 |
	      grep -E 'warning:|error:')
	if [ -n "$out" ]; then
		echo "$out"
		rc=1
	fi
else
	echo "lint: no configured kernel in $KOBJ: run 'make kernel'" >&2
	rc=1
fi

[ $rc -eq 0 ] && echo "lint: clean"
exit $rc
