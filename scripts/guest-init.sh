#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the rig's initramfs. /rig.conf (written by scripts/vm.sh for
# each boot) says what to do:
#   RIG_MODE=check  run RIG_TESTS, report on RIG_TAP, power off
#   RIG_MODE=run    run RIG_RUN (the demo), report on RIG_TAP, power off
#   RIG_MODE=shell  a shell on the console; exit to power off
#   RIG_MODE=boot   say "booted" on RIG_TAP and power off (boot-loop.sh)
# and RIG_KMEMLEAK=1 (the debug kernel) has check mode look for leaks
# after the tests.
# The kernel console is /dev/ttyS0 (arm64: ttyAMA0) and RIG_TAP is
# /dev/ttyS1 (arm64's virt machine has one UART: /dev/hvc0, a virtio
# console), so kernel messages never interleave with the TAP stream the
# host parses.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/tests:/samples
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/hugepages
mount -t hugetlbfs hugetlbfs /dev/hugepages
. /rig.conf

# A few 2MiB pages for the tests that map huge pages (RIG_HUGEPAGES)
echo "${RIG_HUGEPAGES:-16}" > /proc/sys/vm/nr_hugepages

# A marker in the kernel log for each test, so that a splat can be traced
# to the test that caused it.
kmsg()
{
	echo "rig: $*" > /dev/kmsg
}

run_tests()
{
	exec 1>"${RIG_TAP:-/dev/ttyS1}" 2>&1
	echo "# rig: profile $RIG_PROFILE, kernel $(uname -r)"
	for t in $RIG_TESTS; do
		# PROG:FIXTURE runs only that fixture of PROG
		prog=${t%%:*}
		args=$RIG_ARGS
		[ "$prog" = "$t" ] || args="-f ${t#*:} $RIG_ARGS"
		# RIG_ARGS_<prog>: this program's own (scripts/vm.sh), first:
		# the harness stops at the first filter that matches
		case $prog in
		*[!A-Za-z0-9_]*) ;;
		*) eval "args=\"\${RIG_ARGS_$prog:-} \$args\"" ;;
		esac
		kmsg "begin $t"
		echo "# rig: begin $t"
		(cd /tests && timeout "$RIG_TEST_TIMEOUT" ./$prog $args)
		rc=$?
		echo "# rig: end $t rc=$rc"
		kmsg "end $t rc=$rc"
	done
	[ "${RIG_KMEMLEAK:-}" = 1 ] && kmemleak_report
	echo "# rig: done"
}

# Scan twice: a scan holds back an object whose contents changed since
# the previous one (so any object, the first time it is scanned), and
# the report lists only what the last scan still finds unreferenced, so
# a pointer that was in flight during the first (in a register, in a
# list being spliced) makes no leak. An object younger than 5 seconds is
# never reported: the last test's leaks need that long to show up.
kmemleak_report()
{
	local f=/sys/kernel/debug/kmemleak

	# Lockdown closes debugfs; the noiommu profile runs the same tests
	# unlocked
	if grep -qE 'lockdown=(integrity|confidentiality)' /proc/cmdline; then
		echo "# rig: kmemleak skipped: debugfs is locked down"
		return
	fi
	kmsg "kmemleak scan"
	sleep 5
	if ! { echo scan > $f && echo scan > $f; } 2>/dev/null; then
		echo "# rig: kmemleak unavailable"
		return
	fi
	echo "# rig: kmemleak report"
	sed 's/^/# kmemleak: /' $f
	echo "# rig: kmemleak end"
}

# The first edu (1234:11e8) on the root bus, by address
root_bus_edu()
{
	local d

	for d in /sys/bus/pci/devices/0000:00:*; do
		if [ "$(cat $d/vendor)" = 0x1234 ] &&
		   [ "$(cat $d/device)" = 0x11e8 ]; then
			basename $d
			return
		fi
	done
}

case $RIG_MODE in
check)
	run_tests
	;;
run)
	exec 1>"${RIG_TAP:-/dev/ttyS1}" 2>&1
	# The samples drive the first edu on the root bus through VFIO:
	# 00:01.0, or 00:02.0 where the AMD-Vi has 00:01.0
	edu=$(root_bus_edu)
	echo vfio-pci > /sys/bus/pci/devices/$edu/driver_override
	echo $edu > /sys/bus/pci/drivers_probe
	if [ "$RIG_RUN" = /samples/ioasid-demo ]; then
		$RIG_RUN $edu
	else
		$RIG_RUN
	fi
	echo "# rig: demo exited with $?"
	# make run (RIG_RUN left alone): then the same steps as a VMM takes
	# them, guest RAM, DMA jobs, an unplug and a fault, in one loop
	if [ "$RIG_RUN" = /samples/ioasid-demo ]; then
		echo
		ioasid-vmm -d $edu
		echo "# rig: ioasid-vmm exited with $?"
	fi
	;;
boot)
	echo "# rig: booted, kernel $(uname -r)" > "${RIG_TAP:-/dev/ttyS1}"
	;;
shell)
	echo "rig: tests in /tests, samples in /samples; exit to power off"
	setsid cttyhack sh
	;;
esac
sync
poweroff -f
