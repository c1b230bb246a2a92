#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot the guest once and compare VFIO type1, iommufd and
# /dev/ioasid mapping the same memory for the same edu device
# (samples/ioasid_fd/ioasid-bench.c says what is measured), with QEMU
# tracing the emulated VT-d's invalidations; then turn the guest's
# records and the trace into $CACHE/bench/<date>/results.md and a plot.
#
# Environment: BENCH_ARGS (options of ioasid-bench, replacing the
# defaults below), BENCH_MEM (guest RAM), BENCH_KEEP_TRACE=1 (keep QEMU's
# trace log, which can be gigabytes, instead of deleting it once parsed).
# Run it under flock /tmp/rig.lock when others share the rig.
set -euo pipefail
. "$(dirname "$0")/env.sh"

BENCH_MEM=${BENCH_MEM:-4G}
BENCH_ARGS=${BENCH_ARGS:-}
PROG=/samples/ioasid-bench

[ -x "$OUT/samples/ioasid-bench" ] ||
	die "no $OUT/samples/ioasid-bench: run 'make selftests'"

# gnuplot draws the plot: install it the way deps.sh installs the rest
if ! command -v gnuplot > /dev/null; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "bench: installing gnuplot-nox"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends gnuplot-nox \
		< /dev/null
fi

DIR=$CACHE/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$DIR"
RUN=$OUT/run-bench

# The VT-d's invalidation descriptors, and the config writes the guest
# marks its measurements with
printf '%s\n' pci_cfg_write 'vtd_inv_desc_*' > "$DIR/trace-events"

start=$(date +%s)
echo "bench: results in $DIR"
# shellcheck disable=SC2086
RIG_RUN="$PROG $BENCH_ARGS" RIG_MEM=$BENCH_MEM RIG_TIMEOUT=${RIG_TIMEOUT:-3600} \
	RIG_QEMU_ARGS="-trace events=$DIR/trace-events -D $DIR/trace.log" \
	"$TOP/scripts/vm.sh" run bench | grep --line-buffered -v '^[RKL] '
boot=$(($(date +%s) - start))
cp "$RUN/tap.log" "$DIR/guest.log"
cp "$RUN/kernel.log" "$DIR/kernel.log"
cp "$RUN/qemu.log" "$DIR/qemu.log"

# A peer that splats in the kernel is a finding, not noise: say so
splats=$(grep -E 'WARNING:|BUG:|Oops|Kernel panic|general protection fault|INFO: task .* blocked|detected stall|kernel BUG at|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context' \
	"$DIR/kernel.log" || true)

python3 "$TOP/scripts/bench-report.py" --boot-seconds "$boot" \
	--trace "$DIR/trace.log" --kernel-log "$DIR/kernel.log" \
	"$DIR/guest.log" "$DIR"
gnuplot -e "dir='$DIR'" "$TOP/scripts/bench-plot.gp" ||
	echo "bench: gnuplot failed: no plot"
[ "${BENCH_KEEP_TRACE:-}" = 1 ] || rm -f "$DIR/trace.log"
ln -sfn "$(basename "$DIR")" "$CACHE/bench/latest"

cat "$DIR/results.md"
echo
echo "bench: $DIR/results.md, $DIR/scale.png (raw: $DIR/raw.tsv, $DIR/inval.tsv)"
echo "bench: boot and benchmark took $((boot / 60))m$((boot % 60))s"
if [ -n "$splats" ]; then
	echo "bench: the kernel splatted (see $DIR/kernel.log):"
	echo "$splats"
	exit 1
fi
grep -q '^# ioasid-bench: done' "$DIR/guest.log" ||
	die "the benchmark did not finish (see $DIR/guest.log, $DIR/kernel.log)"
