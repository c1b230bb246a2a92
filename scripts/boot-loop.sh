#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make boot-loop: boot each profile N times in a row (vm.sh boot: to
# /init and straight off again) and refuse any report in the kernel log
# (the splats tap-summary.awk counts), so that an early-boot report that
# comes once in a while is seen before it fails a check run by chance.
# DEBUG=1 (make boot-loop's default) boots the debug kernel. Every boot's
# kernel log is kept when it has a report; nothing is retried.
#
#   N=10 PROFILES="default nointremap noiommu lockdown amd" boot-loop.sh
set -uo pipefail
. "$(dirname "$0")/env.sh"

N=${N:-10}
PROFILES=${PROFILES:-default nointremap noiommu lockdown amd}
LOGS=$OUT/boot-loop
# The splats scripts/tap-summary.awk counts, read from there
SPLAT=$(sed -n 's|^/(\(WARNING:.*\))/ {$|\1|p' "$TOP/scripts/tap-summary.awk")
[ -n "$SPLAT" ] || die "no splat pattern in scripts/tap-summary.awk"

rm -rf "$LOGS"
mkdir -p "$LOGS"
t_all=$(date +%s)
bad=0
for p in $PROFILES; do
	ok=0
	for ((i = 1; i <= N; i++)); do
		t=$(date +%s)
		run=$OUT/run-$p
		rm -f "$run/tap.log" "$run/kernel.log"
		RIG_TIMEOUT=${RIG_TIMEOUT:-600} "$TOP/scripts/vm.sh" boot "$p" > /dev/null 2>&1
		rc=$?
		what=
		# QEMU exits 0 on a panic too (panic=-1, -no-reboot): the
		# guest's own word is what says it booted
		[ -f "$run/kernel.log" ] || { touch "$run/kernel.log"; what="vm.sh failed (rc $rc)"; }
		grep -qs '^# rig: booted' "$run/tap.log" ||
			what=${what:-"did not reach /init (rc $rc)"}
		[ $rc -eq 0 ] || what=${what:-"vm.sh exited with $rc"}
		if grep -qE "$SPLAT" "$run/kernel.log"; then
			what="report: $(grep -m1 -E "$SPLAT" "$run/kernel.log" | sed 's/^\[[ 0-9.]*\] //')"
		fi
		if [ -n "$what" ]; then
			cp "$run/kernel.log" "$LOGS/$p-$i.log"
			echo "boot-loop: $p boot $i: $what (log: $LOGS/$p-$i.log)"
			bad=$((bad + 1))
		else
			ok=$((ok + 1))
		fi
		echo "boot-loop: $p boot $i/$N: ${what:-clean} ($(($(date +%s) - t))s)" >> "$LOGS/boots"
	done
	echo "boot-loop: $p: $ok of $N boots clean"
done
echo "boot-loop: $(($(date +%s) - t_all))s in all, $bad boot(s) with a report"
[ $bad -eq 0 ]
