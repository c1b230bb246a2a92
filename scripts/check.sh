#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, build the kernel and the
# selftests, boot the guest once per profile and run every selftest.
# Prints the time of each phase and ends with "N passed, N failed";
# exits non-zero on any failure.
#
# PROFILES selects boot profiles (default: all of them); T and ARGS
# select tests (see scripts/vm.sh). DEBUG=1 does all of it with the debug
# kernel (scripts/debug.config), in $CACHE/build-debug and out-debug.
set -uo pipefail
. "$(dirname "$0")/env.sh"

PROFILES=${PROFILES:-default nointremap noiommu lockdown amd}
declare -a TIMES

[ -z "$DEBUG" ] ||
	echo "### debug kernel: KASAN, kmemleak, UBSAN, lockdep; in $KOBJ and $OUT"

phase()
{
	local name=$1 start rc

	shift
	echo "### $name"
	start=$(date +%s)
	"$@"
	rc=$?
	TIMES+=("$name $(($(date +%s) - start))s")
	echo "### $name: $(($(date +%s) - start))s"
	return $rc
}

report_times()
{
	local t

	for t in "${TIMES[@]}"; do
		echo "# time: $t"
	done
}

phase deps "$TOP/scripts/deps.sh" || die "deps failed"
phase kernel "$TOP/scripts/kernel.sh" || die "kernel build failed"
phase selftests "$TOP/scripts/build-tests.sh" || die "selftest build failed"

# The mock tests do not depend on how the guest boots: the default profile
# runs every program, the others the check of the machine and the device
# tests meant for them (vfio_unsafe's, which pick their boot's fixtures;
# the DMA suites need an IOMMU isolating MSIs). The amd profile runs the
# edu suites again behind AMD-Vi, and of the fuzzer its VFIO fixture.
# smmuv3, arm64's only boot (make check-arm64), runs every program.
DEVICE_TESTS="rig vfio_unsafe"
# The kernel's own iommufd selftests run in the noiommu boot: see
# scripts/iommufd-suite.sh for why there and what is left out.
. "$TOP/scripts/iommufd-suite.sh"
AMD_TESTS="ioasid_fd_fuzz:fuzz_vfio rig vfio_events vfio_ioasid vfio_sample"
AMD_TESTS="$AMD_TESTS vfio_stress vfio_unsafe"

boot_all()
{
	local p rc=0

	for p in $PROFILES; do
		if [ -z "${T:-}" ] && [ "$p" = amd ]; then
			T="$AMD_TESTS" "$TOP/scripts/vm.sh" check "$p" || rc=1
		elif [ -z "${T:-}" ] && [ "$p" = noiommu ]; then
			T="$DEVICE_TESTS $IOMMUFD_TESTS" RIG_HUGEPAGES=$IOMMUFD_HUGEPAGES \
				"$TOP/scripts/vm.sh" check "$p" || rc=1
		elif [ -z "${T:-}" ] && [ "$p" != default ] &&
		     [ "$p" != smmuv3 ]; then
			T="$DEVICE_TESTS" "$TOP/scripts/vm.sh" check "$p" || rc=1
		else
			"$TOP/scripts/vm.sh" check "$p" || rc=1
		fi
	done
	return $rc
}
phase "boot+tests" boot_all

report_times
pass=0 fail=0 skip=0
for p in $PROFILES; do
	line=$(grep -E '^# \[.*\] [0-9]+ passed' "$OUT/run-$p/summary" 2>/dev/null)
	if [ -z "$line" ]; then
		echo "# FAIL [$p] no summary"
		fail=$((fail + 1))
		continue
	fi
	read -r _ _ p_pass _ p_fail _ p_skip _ <<< "$line"
	pass=$((pass + p_pass)) fail=$((fail + p_fail)) skip=$((skip + p_skip))
done
echo "$skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
