#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make series-check: test the series make series wrote, as a maintainer
# would receive it.
#
#  - git am --whitespace=error each patch, in order, onto a fresh
#    worktree of the base ($SERIES_DIR/linux-source-6.12: reset to the
#    base and cleaned, so only the files the patches touch get new mtimes
#    and the build stays incremental);
#  - build and link the kernel after every patch (and once on the base),
#    in its own O= directory ($SERIES_DIR/build) with the rig's
#    configuration: tinyconfig + kvm_guest.config + scripts/rig.config +
#    tools/testing/selftests/ioasid_fd/config, as scripts/kernel.sh does,
#    regenerated whenever a patch touches a Kconfig file; check that
#    every object of ours in the tree is linked into vmlinux (no define
#    is forced: CONFIG_IOASID_FD=y from the first patch on), compile
#    them again with W=1, and refuse any warning;
#  - on the base, the kernel's own iommufd selftests, booted as make
#    check boots ours for them (scripts/iommufd-suite.sh);
#  - checkpatch.pl --strict on every patch;
#  - on the final tree: coccicheck MODE=report on our folders, the
#    options of our fragments all in .config, and b4 am on the mbox if
#    b4 is installed.
#
# Prints a table patch -> applies / builds / checkpatch and the time of
# each step; exits non-zero on any failure. Logs in $SERIES_DIR/logs/.
# Builds run under nice -n 19 with -j${SERIES_JOBS:-2}, through the rig's
# ccache (env.sh), which the rig's kernel fills first: the worktree and
# build directory sit under $SERIES_DIR as $KSRC and $KOBJ sit under
# $CACHE, so an object the series' final tree shares with the rig's
# kernel, or with an earlier run, is not compiled again.
set -uo pipefail
. "$(dirname "$0")/env.sh"
. "$TOP/scripts/series-lib.sh"

CHECK=$SDIR/linux-source-6.12
SKOBJ=${SERIES_KOBJ:-$SDIR/build}
LOGS=$SDIR/logs
SJOBS=${SERIES_JOBS:-2}
NICE=(nice -n 19)
# As lint.sh: our macros that name an argument twice take types, fields
# and constants. FILE_PATH_CHANGES (new files and no MAINTAINERS change)
# is reported once for the series below, not per patch: the series adds
# its MAINTAINERS entry in its last patch.
CP_IGNORE=MACRO_ARG_REUSE,FILE_PATH_CHANGES

t_all=$(date +%s)
[ -f "$SDIR/series.mbox" ] || die "no series in $SDIR: run 'make series'"
pfiles=()
for p in "$OUTD"/*.patch; do
	[ "$(basename "$p")" = 0000-cover-letter.patch ] || pfiles+=("$p")
done
[ ${#pfiles[@]} -gt 0 ] || die "no patches in $OUTD"
rm -rf "$LOGS"
mkdir -p "$LOGS" "$SKOBJ"

# Debian packages this needs, installed if missing as deps.sh does:
# coccinelle for coccicheck, python3-ply and python3-git for checkpatch's
# SPDX check (spdxcheck.py; without them checkpatch prints a traceback
# per file and checks no SPDX line)
pkgs=
command -v spatch > /dev/null || pkgs="$pkgs coccinelle"
command -v ccache > /dev/null || pkgs="$pkgs ccache"
/usr/bin/python3 -c 'import ply' 2> /dev/null || pkgs="$pkgs python3-ply"
/usr/bin/python3 -c 'import git' 2> /dev/null || pkgs="$pkgs python3-git"
if [ -n "$pkgs" ]; then
	echo "series-check: installing$pkgs"
	if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $pkgs > "$LOGS/apt.log" 2>&1 ||
		echo "series-check: cannot install$pkgs, see $LOGS/apt.log"
fi
mkwork "$CHECK"

# Compiles go through ccache as every build of the rig's (env.sh): the
# worktree is laid out as $KSRC is, so what the rig's kernel compiled
# serves the files no step of the series changes.
KCC=()
command -v ccache > /dev/null && [ -n "${CCACHE_DIR:-}" ] && ccache -z > /dev/null

elapsed()
{
	local s=$(($(date +%s) - $1))

	printf '%dm%02ds' $((s / 60)) $((s % 60))
}

configure()
{
	make -s -C "$CHECK" O="$SKOBJ" "${KCC[@]}" tinyconfig &&
	"$CHECK/scripts/kconfig/merge_config.sh" -m -O "$SKOBJ" "$SKOBJ/.config" \
		"$CHECK/kernel/configs/kvm_guest.config" "$TOP/scripts/rig.config" \
		"$TOP/tools/testing/selftests/ioasid_fd/config" > "$SKOBJ/merge_config.log" &&
	make -s -C "$CHECK" O="$SKOBJ" "${KCC[@]}" olddefconfig
}

# Our objects in the tree now: the core's, and VFIO's once it is there
our_objects()
{
	local f

	for f in "$CHECK/$CORE"/*.c "$CHECK"/drivers/vfio/ioasid.c; do
		[ -f "$f" ] || continue
		f=${f#"$CHECK"/}
		echo "${f%.c}.o"
	done
}

# build <log>: the kernel, then our objects with W=1; 0 if all clean.
# No define is forced: from the first patch on, CONFIG_IOASID_FD is set
# by the configuration, and every object of ours present is built and
# linked as in the final tree.
build()
{
	local log=$1 objs members o

	if ! "${NICE[@]}" make -s -C "$CHECK" O="$SKOBJ" -j"$SJOBS" "${KCC[@]}" \
			bzImage modules > "$log" 2>&1; then
		return 1
	fi
	mapfile -t objs < <(our_objects)
	[ ${#objs[@]} -eq 0 ] && return 0
	if ! grep -q '^CONFIG_IOASID_FD=y' "$SKOBJ/.config"; then
		echo "== our files are in the tree but CONFIG_IOASID_FD is not set" >> "$log"
		return 1
	fi
	# Every object of ours in the tree is linked into vmlinux
	# (relative paths: ar prints a thin archive's members as it was named)
	members=$(cd "$SKOBJ" && ar t vmlinux.a 2> /dev/null)
	for o in "${objs[@]}"; do
		if ! grep -qxF "$o" <<< "$members"; then
			echo "== $o is not linked into vmlinux" >> "$log"
			return 1
		fi
	done
	echo "== W=1 ${objs[*]}" >> "$log"
	if ! "${NICE[@]}" make -C "$CHECK" O="$SKOBJ" -j"$SJOBS" "${KCC[@]}" W=1 \
			"${objs[@]}" >> "$log" 2>&1; then
		return 1
	fi
	! grep -qE '(warning|error):' "$log"
}

# checkpatch <patch> <log>: "ok", or errors/warnings/checks
checkpatch()
{
	local p=$1 log=$2 ign=$CP_IGNORE total

	# A test skips on ENOSYS, which there means what it should: no such
	# system call (io_uring compiled out). As lint.sh.
	if ! grep '^diff --git' "$p" | grep -cv ' a/tools/' > /dev/null; then
		ign=$ign,ENOSYS
	fi
	# Debian's python3 first, for spdxcheck.py's ply
	(cd "$CHECK" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --show-types \
		--ignore "$ign" "$p") > "$log" 2>&1
	total=$(sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1\/\2\/\3/p' "$log")
	if [ "$total" = 0/0/0 ]; then
		echo ok
	else
		echo "${total:-failed} E/W/C"
	fi
}

rc=0
rows=()
row()
{
	rows+=("$(printf '%-3s %-60.60s %-7s %-7s %-13s %s' "$@")")
}

echo "series-check: ${#pfiles[@]} patches from $OUTD"
echo "series-check: worktree $CHECK, build $SKOBJ, -j$SJOBS, logs $LOGS"

# The base first: a fresh build directory costs the full kernel here
t=$(date +%s)
configure > "$LOGS/00-config.log" 2>&1 || die "cannot configure: $LOGS/00-config.log"
if build "$LOGS/00-build.log"; then b=ok; else b=FAIL; rc=1; fi
row 0 "(base) $(git -C "$CHECK" log -1 --format=%s)" - "$b" - "$(elapsed "$t")"
echo "${rows[-1]}"

# The kernel's own iommufd selftests on the unpatched base, booted as
# make check boots our kernel for them (scripts/iommufd-suite.sh): what
# passes there must pass on ours, and make check requires all of it.
. "$TOP/scripts/iommufd-suite.sh"
t=$(date +%s)
base_iommufd=FAIL
if [ "$b" = ok ] &&
   make -s -C "$CHECK" O="$SKOBJ" headers > "$LOGS/00-iommufd.log" 2>&1 &&
   KOBJ=$SKOBJ OUT=$SDIR/out-base IOMMUFD_ONLY=1 IOMMUFD_SRC=$CHECK \
	"$TOP/scripts/build-tests.sh" >> "$LOGS/00-iommufd.log" 2>&1 &&
   KOBJ=$SKOBJ OUT=$SDIR/out-base T="$IOMMUFD_TESTS" \
	RIG_HUGEPAGES=$IOMMUFD_HUGEPAGES "$TOP/scripts/vm.sh" check noiommu \
	>> "$LOGS/00-iommufd.log" 2>&1; then
	base_iommufd=ok
else
	rc=1
fi
echo "series-check: iommufd's selftests on the base: $base_iommufd," \
	"$(grep -Eo '[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' \
		"$SDIR/out-base/run-noiommu/summary" 2> /dev/null || echo "no summary") ($(elapsed "$t"))"

failed_am=
for p in "${pfiles[@]}"; do
	n=$(basename "$p" | cut -d- -f1)
	n=$((10#$n))
	subj=$(sed -n 's/^Subject: \[[^]]*\] //p' "$p" | head -n 1)
	t=$(date +%s)
	cpk=$(checkpatch "$p" "$LOGS/$(printf %02d "$n")-checkpatch.log")
	[ "$cpk" = ok ] || rc=1
	if [ -n "$failed_am" ]; then
		row "$n" "$subj" - - "$cpk" -
		echo "${rows[-1]}"
		continue
	fi
	if git -C "$CHECK" am -q --whitespace=error "$p" > "$LOGS/$(printf %02d "$n")-am.log" 2>&1; then
		a=ok
	else
		a=FAIL
		failed_am=1
		rc=1
		git -C "$CHECK" am --abort > /dev/null 2>&1
		row "$n" "$subj" "$a" - "$cpk" "$(elapsed "$t")"
		echo "${rows[-1]}"
		continue
	fi
	b=ok
	if git -C "$CHECK" diff --name-only HEAD~1 | grep -c 'Kconfig' > /dev/null; then
		configure > "$LOGS/$(printf %02d "$n")-config.log" 2>&1 || b=FAIL
	fi
	if [ "$b" = ok ] && ! build "$LOGS/$(printf %02d "$n")-build.log"; then
		b=FAIL
	fi
	[ "$b" = ok ] || rc=1
	row "$n" "$subj" "$a" "$b" "$cpk" "$(elapsed "$t")"
	echo "${rows[-1]}"
done

echo
echo "series-check: final tree"
# Our fragments' options must all be in the final configuration, or the
# builds above did not build what the series adds
t=$(date +%s)
missing=$(cat "$TOP/scripts/rig.config" "$TOP/tools/testing/selftests/ioasid_fd/config" |
	grep '^CONFIG_.*=' | grep -vxFf "$SKOBJ/.config")
if [ -n "$missing" ]; then
	echo "  config: not kept in .config: $(echo $missing)"
	rc=1
else
	echo "  config: every option of rig.config and the selftests' config is set"
fi

# Not "git log | grep -q": under pipefail, git's SIGPIPE when grep stops
# early would fail the pipeline
if ! git -C "$CHECK" log --format= --name-only base..HEAD | grep -cx MAINTAINERS > /dev/null; then
	echo "  checkpatch: the series adds files but no MAINTAINERS entry (FILE_PATH_CHANGES, not counted above)"
fi

if command -v spatch > /dev/null; then
	t=$(date +%s)
	: > "$LOGS/coccicheck.log"
	# One semantic patch at a time: coccicheck stops at the first that
	# fails, and Debian's coccinelle has no OCaml compiler for the few
	# that script in OCaml (without ocaml-nox): those are skipped, named.
	# J=1: Debian's spatch 1.1.1 with --jobs sometimes loses a temporary
	# file of its worker processes (Sys_error, "No such file").
	skipped=()
	for c in $(cd "$CHECK" && ls scripts/coccinelle/*/*.cocci); do
		if grep -q ':ocaml' "$CHECK/$c"; then
			skipped+=("$(basename "$c")")
			continue
		fi
		for m in "$CORE" drivers/vfio; do
			# In the source tree, not O=: report mode writes
			# nothing, and needs no configuration
			"${NICE[@]}" make -s -C "$CHECK" J=1 \
				coccicheck MODE=report M="$m" COCCI="$c" \
				>> "$LOGS/coccicheck.log" 2>&1 ||
				echo "coccicheck $c M=$m failed" >> "$LOGS/coccicheck.log"
		done
	done
	# drivers/vfio is upstream's but for ioasid.c: keep only ours
	cocci=$(grep -E "^(\./)?($CORE/|drivers/vfio/ioasid\.c)|failed$" "$LOGS/coccicheck.log")
	if [ -n "$cocci" ]; then
		echo "$cocci" | sed 's/^/  coccicheck: /'
		rc=1
	else
		echo "  coccicheck: MODE=report on $CORE and drivers/vfio/ioasid.c: clean ($(elapsed "$t"))"
	fi
	[ ${#skipped[@]} -eq 0 ] ||
		echo "  coccicheck: skipped (OCaml scripting, no ocaml-nox): ${skipped[*]}"
else
	echo "  coccicheck: spatch missing"
	rc=1
fi

if command -v b4 > /dev/null; then
	rm -rf "$SDIR/b4"
	mkdir -p "$SDIR/b4"
	# From the worktree, where b4 finds the base-commit
	if (cd "$CHECK" && b4 am -m "$SDIR/series.mbox" -o "$SDIR/b4") \
			> "$LOGS/b4.log" 2>&1 && ls "$SDIR"/b4/*.mbx > /dev/null 2>&1; then
		echo "  b4 am: accepted ($(grep -m1 -o 'Total patches: [0-9]*' "$LOGS/b4.log"), $(ls "$SDIR"/b4/*.mbx))"
	else
		echo "  b4 am: refused the mbox, see $LOGS/b4.log"
		rc=1
	fi
else
	echo "  b4 am: b4 not installed, skipped (apt-get install b4)"
fi

if [ -n "${CCACHE_DIR:-}" ]; then
	echo "  ccache: $(ccache --print-stats 2> /dev/null |
		awk -F'\t' '$1 ~ /^(direct|preprocessed)_cache_hit$/ { h += $2 }
			$1 == "cache_miss" { m = $2 }
			END { printf "%d hits, %d misses", h, m }')"
fi

echo
printf '%-3s %-60s %-7s %-7s %-13s %s\n' "#" subject applies builds checkpatch time
printf '%s\n' "${rows[@]}"
echo
echo "series-check: $(elapsed "$t_all") in all"
if [ $rc -eq 0 ]; then
	echo "series-check: all patches apply, build and pass checkpatch"
else
	echo "series-check: FAILED (logs in $LOGS)"
fi
exit $rc
