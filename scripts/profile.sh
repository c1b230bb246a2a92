#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make profile: where the time of the benchmark's slow /dev/ioasid cases
# goes, measured with perf in the guest. One boot (the "profile" profile
# of scripts/vm.sh) runs each case of "ioasid-bench -P" in a loop under
# "perf record -e cpu-clock -a -g", enabled only while the profiled
# operation runs (scripts/profile-guest.sh); in the guest, perf script and
# scripts/profile-weigh.awk make the flat profile (self time by symbol)
# and the layers (time by the innermost caller of ours or the IOMMU
# core's), each sample weighed by the time it stands for, and perf report
# prints the callers of the top symbols.
#
# perf is Debian's linux-perf, the host's binary: it and the shared
# libraries ldd lists go into this boot's initramfs only. The guest
# resolves kernel symbols from its /proc/kallsyms (CONFIG_KALLSYMS).
#
# Environment: PROFILE_CASES (cases of ioasid-bench -P, default all),
# PROFILE_SECONDS (profiled time per case, 10), PROFILE_FREQ (samples a
# second per CPU, 1000), PROFILE_TOP (lines of each report, 15),
# PROFILE_EXPORT=1 (also copy each perf.data out, through the serial
# console, for perf report on the host: see the end of the output).
# Run it under flock /tmp/rig.lock when others share the rig.
set -euo pipefail
. "$(dirname "$0")/env.sh"

CASES=${PROFILE_CASES:-frag-map frag-floor sep-map sep-unmap batch-map batch-unmap}
SECS=${PROFILE_SECONDS:-10}
FREQ=${PROFILE_FREQ:-1000}
LINES_TOP=${PROFILE_TOP:-15}
EXPORT=${PROFILE_EXPORT:-0}
PERF=/usr/bin/perf

[ -x "$OUT/samples/ioasid-bench" ] ||
	die "no $OUT/samples/ioasid-bench: run 'make selftests'"

# perf: install it the way deps.sh installs the rest
if ! [ -x "$PERF" ] || ! "$PERF" version > /dev/null 2>&1; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "profile: installing linux-perf"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends linux-perf \
		< /dev/null
fi

DIR=$CACHE/profile/$(date +%Y%m%d-%H%M%S)
RUN=$OUT/run-profile
mkdir -p "$DIR" "$RUN"

# perf, its libraries and the loader, where ldd finds them, and the
# script the guest runs
extra=$RUN/initramfs.extra
{
	files=$( (echo "$PERF"; ldd "$PERF" |
		sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) .*/\1/p') |
		sort -u)
	for f in $files; do
		d=$(dirname "$f")
		while [ "$d" != / ]; do
			echo "$d"
			d=$(dirname "$d")
		done
	done | sort -u | grep -vx -e /bin -e /sbin -e /tmp |
		sed 's/.*/dir & 0755 0 0/'
	for f in $files; do
		echo "file $f $(readlink -f "$f") 0755 0 0"
	done
	echo "file /profile.sh $TOP/scripts/profile-guest.sh 0755 0 0"
	echo "file /profile-weigh.awk $TOP/scripts/profile-weigh.awk 0644 0 0"
} > "$extra"

start=$(date +%s)
echo "profile: cases $CASES; ${SECS}s each at ${FREQ}Hz; reports in $DIR"
# shellcheck disable=SC2086
RIG_RUN="/profile.sh $SECS $FREQ $LINES_TOP $EXPORT $CASES" \
	RIG_INITRAMFS_EXTRA=$extra RIG_TIMEOUT=${RIG_TIMEOUT:-1500} \
	"$TOP/scripts/vm.sh" run profile | grep --line-buffered '^# profile'
boot=$(($(date +%s) - start))
cp "$RUN/tap.log" "$DIR/guest.log"
cp "$RUN/kernel.log" "$DIR/kernel.log"

# One report file per case, and its perf.data if it was exported
for c in $CASES; do
	awk -v c="$c" '
		$0 == "# profile: begin " c { on = 1; next }
		$0 == "# profile: end " c { on = 0 }
		$0 ~ /^# profile: perf.data / { data = $0 != "# profile: perf.data end"; next }
		on && !data' "$DIR/guest.log" > "$DIR/$c.txt"
	[ "$EXPORT" = 1 ] || continue
	awk -v c="$c" '
		$0 == "# profile: perf.data " c { on = 1; next }
		$0 == "# profile: perf.data end" { on = 0 }
		on' "$DIR/guest.log" | base64 -d | gunzip > "$DIR/$c.data" ||
		echo "profile: $c: no perf.data"
done
ln -sfn "$(basename "$DIR")" "$CACHE/profile/latest"

# The flat profiles and layers; the callers are in each case's file
for c in $CASES; do
	echo
	echo "== $c"
	sed '/^# profile: callers/,$d' "$DIR/$c.txt"
done
echo
echo "profile: reports, with the callers of the top symbols, in $DIR/<case>.txt"
[ "$EXPORT" = 1 ] &&
	echo "profile: on the host: perf report -i $DIR/<case>.data --kallsyms $KOBJ/System.map"
echo "profile: the boot took $((boot / 60))m$((boot % 60))s"
grep -q '^# profile: done' "$DIR/guest.log" ||
	die "the guest did not finish (see $DIR/guest.log, $DIR/kernel.log)"
