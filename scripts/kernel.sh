#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the prototype kernel (or with "prepare", only set up $KSRC): Debian's linux-source-6.12 with our files
# and patches/ on top, configured from tinyconfig + kvm_guest.config +
# scripts/rig.config + tools/testing/selftests/ioasid_fd/config, and with
# DEBUG=1 scripts/debug.config last, into its own $KOBJ (see env.sh).
# ARCH=arm64 cross-builds an arm64 Image from the same tree, configured
# from tinyconfig + the selftests' config + scripts/arm64.config.
#
# KSRC_READY=1 leaves $KSRC alone (no unpacking, linking or patching):
# for a second build that shares a tree another build keeps prepared.
#
# Every step is idempotent and leaves mtimes alone when nothing changed,
# so a second run costs only make's dependency walk and touching one of
# our files rebuilds only what includes it:
#  - our new files are symlinked into the tree, never copied;
#  - patches/ are applied once; when the series changes, the applied
#    patches that differ are reverted (newest first) and the new ones
#    applied, with no fuzz allowed;
#  - .config is regenerated only when a fragment or a patch changes.
set -euo pipefail
. "$(dirname "$0")/env.sh"

STATE=$KSRC/.ioasid_fd	# what we did to the tree

unpack()
{
	[ -f "$KSRC/Makefile" ] && return
	[ "$KSRC" = "$CACHE/linux-source-6.12" ] ||
		die "KSRC=$KSRC is not a kernel tree"
	[ -f "$KTARBALL" ] || die "$KTARBALL missing: run 'make deps'"
	echo "kernel: unpacking $KTARBALL into $CACHE"
	mkdir -p "$CACHE"
	rm -rf "$CACHE/.unpack"
	mkdir "$CACHE/.unpack"
	tar -C "$CACHE/.unpack" -xf "$KTARBALL"
	mv "$CACHE/.unpack/linux-source-6.12" "$KSRC"
	rmdir "$CACHE/.unpack"
}

# Our files that are new to the kernel tree, relative to the repo top
our_files()
{
	(cd "$TOP" && git ls-files --cached --others --exclude-standard \
		drivers include samples tools Documentation)
}

link_files()
{
	local f old

	mkdir -p "$STATE"
	our_files > "$STATE/links.new"
	# Drop links to files that left the repo
	if [ -f "$STATE/links" ]; then
		comm -23 <(sort "$STATE/links") <(sort "$STATE/links.new") |
		while read -r old; do
			[ -L "$KSRC/$old" ] && rm "$KSRC/$old"
		done
	fi
	while read -r f; do
		[ -e "$TOP/$f" ] || continue
		if [ -e "$KSRC/$f" ] && [ ! -L "$KSRC/$f" ]; then
			die "$f exists upstream: change it with a patch in patches/"
		fi
		if [ "$(readlink "$KSRC/$f" 2>/dev/null)" != "$TOP/$f" ]; then
			mkdir -p "$(dirname "$KSRC/$f")"
			ln -sfn "$TOP/$f" "$KSRC/$f"
		fi
	done < "$STATE/links.new"
	mv "$STATE/links.new" "$STATE/links"
}

apply_patches()
{
	local -a want have
	local i n

	mkdir -p "$STATE/applied"
	mapfile -t want < <(cd "$TOP/patches" && ls -1 -- *.patch 2>/dev/null | sort)
	mapfile -t have < <(cd "$STATE/applied" && ls -1 -- *.patch 2>/dev/null | sort)

	# First position where the applied series and ours differ
	n=0
	while [ $n -lt ${#want[@]} ] && [ $n -lt ${#have[@]} ] &&
	      [ "${want[$n]}" = "${have[$n]}" ] &&
	      cmp -s "$TOP/patches/${want[$n]}" "$STATE/applied/${have[$n]}"; do
		n=$((n + 1))
	done

	for ((i = ${#have[@]} - 1; i >= n; i--)); do
		echo "kernel: reverting ${have[$i]}"
		patch -d "$KSRC" -p1 -R -s --fuzz=0 --no-backup-if-mismatch \
			< "$STATE/applied/${have[$i]}" ||
			die "cannot revert ${have[$i]}: the tree was changed by hand"
		rm "$STATE/applied/${have[$i]}"
	done
	for ((i = n; i < ${#want[@]}; i++)); do
		echo "kernel: applying ${want[$i]}"
		patch -d "$KSRC" -p1 -N -s --fuzz=0 --no-backup-if-mismatch \
			< "$TOP/patches/${want[$i]}" ||
			die "${want[$i]} does not apply without fuzz"
		cp "$TOP/patches/${want[$i]}" "$STATE/applied/"
	done
}

# Later fragments win: rig.config turns off defaults kvm_guest.config
# does not need.
FRAGMENTS=(
	"$KSRC/kernel/configs/kvm_guest.config"
	"$TOP/scripts/rig.config"
	"$TOP/tools/testing/selftests/ioasid_fd/config"
)
# The fragments whose every option must survive into .config
CHECKED=("$TOP/scripts/rig.config" "$TOP/tools/testing/selftests/ioasid_fd/config")
if [ -n "$DEBUG" ]; then
	FRAGMENTS+=("$TOP/scripts/debug.config")
	CHECKED+=("$TOP/scripts/debug.config")
fi
# arm64: no kvm_guest.config or rig.config (both for the x86 guest);
# arm64.config comes after the selftests' fragment and turns off its x86
# options, so it is checked for those lines instead of the selftests'
IMAGE=arch/x86/boot/bzImage
TARGETS=(bzImage modules)
if [ "${ARCH:-}" = arm64 ]; then
	[ -z "$DEBUG" ] || die "DEBUG=1 is for the x86 kernel only"
	FRAGMENTS=("$TOP/tools/testing/selftests/ioasid_fd/config"
		   "$TOP/scripts/arm64.config")
	CHECKED=("${FRAGMENTS[@]}")
	IMAGE=arch/arm64/boot/Image
	TARGETS=(Image)
fi

configure()
{
	local stamp got opt line

	stamp=$(cat "${FRAGMENTS[@]}" "$STATE"/applied/*.patch 2>/dev/null |
		sha256sum | cut -d' ' -f1)
	if [ -f "$KOBJ/.config" ] && [ -f "$KOBJ/.ioasid_fd-config" ] &&
	   [ "$(cat "$KOBJ/.ioasid_fd-config")" = "$stamp" ]; then
		return
	fi
	echo "kernel: configuring $KOBJ"
	mkdir -p "$KOBJ"
	make -s -C "$KSRC" O="$KOBJ" tinyconfig
	"$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KOBJ" \
		"$KOBJ/.config" "${FRAGMENTS[@]}" > "$KOBJ/merge_config.log"
	make -s -C "$KSRC" O="$KOBJ" olddefconfig

	# merge_config only warns when a dependency drops an option: refuse.
	# kvm_guest.config asks for other architectures' options: only ours
	# are checked.
	got=0
	for f in "${CHECKED[@]}"; do
		while read -r line; do
			case $line in
			CONFIG_*=*)
				grep -qxF "$line" "$KOBJ/.config" && continue
				# A later checked fragment turned it off
				[ "${ARCH:-}" = arm64 ] &&
				grep -qxF "# ${line%%=*} is not set" \
					"$TOP/scripts/arm64.config" && continue
				;;
			"# CONFIG_"*" is not set")
				# Only the debug fragment's: the sanitizers
				# depend on what it turns off.
				[ "$f" = "$TOP/scripts/debug.config" ] || continue
				opt=${line#\# }
				grep -q "^${opt%% *}=" "$KOBJ/.config" || continue
				;;
			*)
				continue
				;;
			esac
			echo "kernel: $line was not kept (see 'make menuconfig')" >&2
			got=1
		done < "$f"
	done
	[ $got -eq 0 ] || die "configuration incomplete"
	echo "$stamp" > "$KOBJ/.ioasid_fd-config"
}

build()
{
	echo "kernel: building in $KOBJ with -j$JOBS"
	make -s -C "$KSRC" O="$KOBJ" -j"$JOBS" "${TARGETS[@]}"
	make -s -C "$KSRC" O="$KOBJ" headers
}

# A "make mutants" killed outright leaves its mutant in $KSRC: undo it
# (outside that run, which sets IOASID_MUTANTS=1)
if [ -f "$CACHE/mutants/pending" ] && [ "${IOASID_MUTANTS:-}" != 1 ]; then
	"$TOP/scripts/mutants.sh" restore || die "cannot undo a mutant"
fi
if [ "${KSRC_READY:-}" != 1 ]; then
	unpack
	link_files
	apply_patches
fi
[ "${1:-}" = prepare ] && exit 0
configure
build
echo "kernel: $KOBJ/$IMAGE"
