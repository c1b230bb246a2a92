#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# /profile.sh in the guest of scripts/profile.sh, run by guest-init.sh's
# run mode (output on /dev/ttyS1, the edu 00:01.0 bound to vfio-pci):
#
#   profile.sh SECONDS FREQ TOP EXPORT CASE...
#
# For each CASE of ioasid-bench -P: record it with perf (cpu-clock, the
# only clock TCG has, at FREQ Hz on every CPU, kernel call chains), the
# events enabled only while the profiled operation runs, for SECONDS of
# it; then print, between "# profile: begin CASE" and "# profile: end
# CASE" lines, the TOP lines of each report: the time of the tasks, the
# flat profile of ioasid-bench (self time by symbol) and its layers (by
# the innermost caller we know), all weighed by /profile-weigh.awk (see
# why there), and perf report's callers of its top symbols. With
# EXPORT=1 the perf.data follows too, gzipped and base64-encoded, for
# perf report on the host.

SECS=$1 FREQ=$2 TOP=$3 EXPORT=$4
shift 4
PERF=/usr/bin/perf
BENCH=/samples/ioasid-bench
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu HOME=/tmp PAGER=cat

# One kind of line of profile-weigh.awk's output, largest first
weighed()
{
	grep "^$1 " /tmp/weighed | cut -d' ' -f2- | sort -rn | head -n "$TOP" |
		awk '{ p = $1; $1 = ""; printf "%8.2f%%%s\n", p, $0 }'
}

echo "# profile: kernel $(uname -r), $(grep -c . /proc/kallsyms) kallsyms"
for c in "$@"; do
	data=/tmp/$c.data
	rm -f /tmp/ctl /tmp/ack
	mkfifo /tmp/ctl /tmp/ack
	echo "# profile: begin $c"
	$PERF record -q -e cpu-clock -F "$FREQ" -a -g -k mono -N -B -D -1 \
		--control fifo:/tmp/ctl,/tmp/ack -o "$data" -- \
		$BENCH -P "$c" -t "$SECS" -p /tmp/ctl,/tmp/ack > /tmp/bench.out
	grep -v -e '^T ' -e '^I ' /tmp/bench.out
	$PERF script -i "$data" -F comm,cpu,time,ip,sym --ns 2>/dev/null |
		awk -f /profile-weigh.awk /tmp/bench.out - > /tmp/weighed
	awk '$1 == "TOTAL" { printf "# profile: %s s profiled; the samples of ioasid-bench weigh %s s (%d samples)\n", $2, $3, $4 }' \
		/tmp/weighed
	echo "# profile: tasks, all CPUs (% of the time weighed)"
	weighed TASK
	echo "# profile: flat, ioasid-bench (% of its time weighed, % of its samples, symbol)"
	weighed FLAT
	echo "# profile: layers, ioasid-bench (innermost known caller: % of time, % of samples)"
	weighed LAYER
	echo "# profile: callers of the top symbols (perf report, unweighted, whole enabled time)"
	$PERF report -i "$data" --stdio --comms ioasid-bench \
		--percentage relative --no-children --sort sym \
		-g graph,2,callee,function,percent --max-stack 8 \
		--percent-limit 4 2>/dev/null |
		grep -v -e '^#' -e '^$' | head -n $((TOP * 12))
	if [ "$EXPORT" = 1 ]; then
		echo "# profile: perf.data $c"
		gzip -c "$data" | base64
		echo "# profile: perf.data end"
	fi
	echo "# profile: end $c"
	rm -f "$data"
done
echo "# profile: done"
