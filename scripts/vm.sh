#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the prototype kernel in QEMU (TCG) with an emulated IOMMU (VT-d,
# or AMD-Vi in the amd profile) and four edu devices: two on the root bus,
# two behind a pcie-pci-bridge (so they form one IOMMU group).
#
#   vm.sh check [PROFILE]   run the selftests, print TAP and a summary
#   vm.sh run   [PROFILE]   run the demo (samples/ioasid_fd)
#   vm.sh shell [PROFILE]   interactive shell on the console
#   vm.sh boot  [PROFILE]   boot to /init and power off (scripts/boot-loop.sh)
#
# Profiles are the ways the tests need the guest booted; see profile().
# Environment: T (test programs to run, default all), ARGS (passed to
# each), RIG_ARGS_<prog> (passed to <prog> only), RIG_TIMEOUT (whole
# boot, seconds), RIG_TEST_TIMEOUT (per program), RIG_HUGEPAGES (2 MiB
# pages the guest reserves, default 16).
# A word PROG:FIXTURE in T runs only that fixture of PROG (-f FIXTURE).
# For scripts/bench.sh: RIG_RUN (the program run mode runs), RIG_MEM (guest
# RAM, default 2G), RIG_QEMU_ARGS (more QEMU options, split at spaces);
# the "bench" profile is "default" with its logs in run-bench.
# For scripts/profile.sh: RIG_INITRAMFS_EXTRA (a file of more lines for
# gen_init_cpio's spec: files for this boot only); the "profile" profile
# is "default" with its logs in run-profile.
#
# DEBUG=1 boots the debug kernel (see scripts/debug.config) with
# panic_on_warn=1; in check mode the guest then scans for leaks after the
# tests and the summary counts each leak it reports.
set -euo pipefail
. "$(dirname "$0")/env.sh"

MODE=${1:-check}
PROFILE=${2:-default}
[ -n "${2:-}" ] || [ "${ARCH:-}" != arm64 ] || PROFILE=smmuv3
if [ -n "$DEBUG" ]; then
	RIG_TIMEOUT=${RIG_TIMEOUT:-3600}
fi
RIG_TIMEOUT=${RIG_TIMEOUT:-1500}
RIG_TEST_TIMEOUT=${RIG_TEST_TIMEOUT:-900}
BZIMAGE=$KOBJ/arch/x86/boot/bzImage
TESTS_DIR=$OUT/selftests
SAMPLES_DIR=$OUT/samples
RUN=$OUT/run-$PROFILE
BUSYBOX=/bin/busybox
# ARCH=arm64 (make check-arm64): the arm64 kernel on QEMU's virt machine
# with an SMMUv3 (the smmuv3 profile, its only one) and the arm64 busybox
# that scripts/deps.sh unpacked. virt has one UART for the kernel: the
# guest reports on a virtio console instead of ttyS1.
# la57=off: with 5-level paging, a KASAN kernel can report a wild access
# from any interrupt taken while identify_boot_cpu() has cleared the CPU's
# feature words (arch_cpu_finalize_init(), interrupts on): for that
# moment pgtable_l5_enabled() is false, KASAN's shadow starts where
# 4-level paging would put it, and the 5-level direct map has no shadow.
# The rig needs no 5-level paging; see README.md, "The debug kernel".
MACHINE=(qemu-system-x86_64 -accel tcg -cpu max,la57=off -smp 2 -m "${RIG_MEM:-2G}"
	-M q35,kernel-irqchip=split)
CONSOLE=ttyS0
TAP_OUT=(-serial stdio)
RIG_TAP=/dev/ttyS1
if [ "${ARCH:-}" = arm64 ]; then
	[ "$PROFILE" = smmuv3 ] || die "ARCH=arm64 boots the smmuv3 profile only"
	BZIMAGE=$KOBJ/arch/arm64/boot/Image
	BUSYBOX=$CACHE/arm64-userland/bin/busybox
	[ -x "$BUSYBOX" ] || die "no $BUSYBOX: run 'ARCH=arm64 scripts/deps.sh'"
	# pauth-impdef: QEMU's own pointer authentication, much faster
	# under TCG than the architected QARMA
	MACHINE=(qemu-system-aarch64 -accel tcg -cpu max,pauth-impdef=on
		-smp 2 -m "${RIG_MEM:-2G}"
		-M virt,gic-version=3,iommu=smmuv3
		-device virtio-serial-device)
	CONSOLE=ttyAMA0
	TAP_OUT=(-chardev stdio,id=tap -device virtconsole,chardev=tap)
	RIG_TAP=/dev/hvc0
elif [ "$PROFILE" = smmuv3 ]; then
	die "the smmuv3 profile is arm64's: make check-arm64"
fi

[ -f "$BZIMAGE" ] || die "no kernel at $BZIMAGE: run 'make kernel'"
[ -x "$KOBJ/usr/gen_init_cpio" ] || die "no gen_init_cpio in $KOBJ/usr"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	[ -f /usr/share/doc/busybox-static/copyright ] ||
	die "$BUSYBOX is not busybox-static: run 'make deps'"

# QEMU options and kernel parameters of each boot profile:
#   default     VT-d with interrupt remapping (MSIs isolated)
#   nointremap  VT-d without interrupt remapping (MSIs not isolated)
#   noiommu     no IOMMU; VFIO's unsafe no-IOMMU mode on
#   lockdown    the same, with the kernel locked down for integrity
#   amd         AMD-Vi with interrupt remapping (MSIs isolated)
#   smmuv3      arm64 (ARCH=arm64): virt's SMMUv3, MSIs isolated by the ITS
# EDU_ADDRS: the slots of the two root-bus edus and of the bridge.
PROFILES_ALL="default nointremap noiommu lockdown amd smmuv3"
profile()
{
	EDU_ADDRS=(1.0 10.0 "")
	case $1 in
	default|bench|profile)
		IOMMU=(-device intel-iommu,intremap=on,caching-mode=on)
		KPARAMS="intel_iommu=on"
		;;
	nointremap)
		IOMMU=(-device intel-iommu,intremap=off,caching-mode=on)
		KPARAMS="intel_iommu=on intremap=off"
		;;
	noiommu)
		IOMMU=()
		KPARAMS="vfio.enable_unsafe_noiommu_mode=1"
		;;
	lockdown)
		IOMMU=()
		KPARAMS="vfio.enable_unsafe_noiommu_mode=1 lockdown=integrity"
		;;
	amd)
		# QEMU's AMD-Vi is a PCI function too and takes the first free
		# slot, 00:01.0: the first root-bus edu moves to 00:02.0 and
		# the bridge to 00:03.0. QEMU 7.2 walks only the v1 (host)
		# page table format; iommu.passthrough=0 keeps the default
		# domains translated, as VT-d's are.
		IOMMU=(-device amd-iommu,intremap=on)
		EDU_ADDRS=(2.0 10.0 3.0)
		KPARAMS="amd_iommu=pgtbl_v1 iommu.passthrough=0"
		;;
	smmuv3)
		# The SMMUv3 comes with the machine (see MACHINE)
		IOMMU=()
		KPARAMS=""
		;;
	*)
		die "unknown profile '$1' (one of: $PROFILES_ALL)"
		;;
	esac
}

initramfs()
{
	local spec=$RUN/initramfs.spec f

	{
		for d in /bin /sbin /dev /proc /sys /tmp /tests /samples; do
			echo "dir $d 0755 0 0"
		done
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "file /bin/busybox $BUSYBOX 0755 0 0"
		echo "file /init $TOP/scripts/guest-init.sh 0755 0 0"
		echo "file /rig.conf $RUN/rig.conf 0644 0 0"
		for f in "$TESTS_DIR"/*; do
			[ -f "$f" ] && [ -x "$f" ] &&
				echo "file /tests/$(basename "$f") $f 0755 0 0"
		done
		for f in "$SAMPLES_DIR"/*; do
			[ -f "$f" ] && [ -x "$f" ] &&
				echo "file /samples/$(basename "$f") $f 0755 0 0"
		done
		[ -z "${RIG_INITRAMFS_EXTRA:-}" ] || cat "$RIG_INITRAMFS_EXTRA"
	} > "$spec"
	"$KOBJ/usr/gen_init_cpio" "$spec" > "$RUN/initramfs.cpio"
}

# Every test program the selftests Makefile built, unless T= names some.
# The kernel's own iommufd suite (iommufd*) runs only where check.sh names
# it: in a boot without a hardware IOMMU (see there).
all_tests()
{
	local f

	for f in "$TESTS_DIR"/*; do
		case $(basename "$f") in iommufd*) continue ;; esac
		[ -f "$f" ] && [ -x "$f" ] && basename "$f"
	done | sort | tr '\n' ' '
}

mkdir -p "$RUN"
profile "$PROFILE"
{
	echo "RIG_MODE=$MODE"
	echo "RIG_PROFILE=$PROFILE"
	echo "RIG_TAP=$RIG_TAP"
	echo "RIG_TESTS='${T:-$(all_tests)}'"
	echo "RIG_ARGS='${ARGS:-}'"
	echo "RIG_TEST_TIMEOUT=$RIG_TEST_TIMEOUT"
	echo "RIG_RUN='${RIG_RUN:-/samples/ioasid-demo}'"
	[ -z "$DEBUG" ] || echo "RIG_KMEMLEAK=1"
	echo "RIG_HUGEPAGES=${RIG_HUGEPAGES:-16}"
	# RIG_ARGS_<prog>: more arguments for that program only
	for var in ${!RIG_ARGS_@}; do
		printf "%s='%s'\n" "$var" "${!var//\'/\'\\\'\'}"
	done
} > "$RUN/rig.conf"
initramfs

QEMU=("${MACHINE[@]}"
	${IOMMU[@]+"${IOMMU[@]}"}
	-device "edu,addr=${EDU_ADDRS[0]}"
	-device "edu,addr=${EDU_ADDRS[1]}"
	-device "pcie-pci-bridge,id=br0${EDU_ADDRS[2]:+,addr=${EDU_ADDRS[2]}}"
	-device edu,bus=br0,addr=1
	-device edu,bus=br0,addr=2
	-kernel "$BZIMAGE" -initrd "$RUN/initramfs.cpio"
	-nodefaults -display none -no-reboot)
if [ -n "${RIG_QEMU_ARGS:-}" ]; then
	read -ra EXTRA <<< "$RIG_QEMU_ARGS"
	QEMU+=("${EXTRA[@]}")
fi
CMDLINE="console=$CONSOLE panic=-1 printk.devkmsg=on $KPARAMS"
# A WARN, a KASAN or a UBSAN report ends the boot where it happened
[ -z "$DEBUG" ] || CMDLINE="$CMDLINE panic_on_warn=1"

case $MODE in
shell)
	exec "${QEMU[@]}" -append "$CMDLINE" -serial mon:stdio -serial null
	;;
check|run|boot)
	# ttyS0: the kernel console, to a file; ttyS1: what the guest reports
	rm -f "$RUN/kernel.log"; : > "$RUN/kernel.log"
	# QEMU's own complaints (the emulated VT-d reports each DMA fault
	# the tests provoke) go to qemu.log. tap.log is written line by
	# line, so that it shows where a guest that hangs has stopped.
	timeout -k 10 "$RIG_TIMEOUT" "${QEMU[@]}" -append "$CMDLINE" \
		-serial "file:$RUN/kernel.log" "${TAP_OUT[@]}" \
		< /dev/null 2> "$RUN/qemu.log" |
		stdbuf -oL tr -d '\r' | tee "$RUN/tap.log"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 124 ] && echo "# rig: QEMU killed after ${RIG_TIMEOUT}s" |
		tee -a "$RUN/tap.log"
	[ "$MODE" = run ] && exit 0
	[ "$MODE" = boot ] && exit "$rc"
	awk -v profile="$PROFILE" -v debug="$DEBUG" \
		-f "$TOP/scripts/tap-summary.awk" \
		"$RUN/tap.log" "$RUN/kernel.log" | tee "$RUN/summary"
	exit "${PIPESTATUS[0]}"
	;;
*)
	die "unknown mode '$MODE'"
	;;
esac
