# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
# Sourced by series.sh and series-check.sh, after env.sh.

SDIR=${SERIES_DIR:-$CACHE/series}
BASE=$SDIR/base		# the pristine tarball, one root commit, tag "base"
WORK=$SDIR/work		# where series.sh commits the series
OUTD=$SDIR/out		# git format-patch output
CORE=drivers/iommu/ioasid

# Debian's package version and the kernel version its Makefile gives
deb_version()
{
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown
}

kernel_version()
{
	awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } $1 == "EXTRAVERSION" { e = $2 }
		END { printf "%s.%s.%s%s\n", v, p, s, e }' "$1/Makefile"
}

# The base repository: made once; remade when the package changes.
base_repo()
{
	local want tmp

	want="Linux $(tar -xOf "$KTARBALL" linux-source-6.12/Makefile 2>/dev/null |
		awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } $1 == "EXTRAVERSION" { e = $2 }
		END { printf "%s.%s.%s%s", v, p, s, e }') (Debian linux-source-6.12 $(deb_version))"
	if git -C "$BASE" rev-parse -q --verify base > /dev/null 2>&1 &&
	   [ "$(git -C "$BASE" log -1 --format=%s base)" = "$want" ]; then
		return
	fi
	[ -f "$KTARBALL" ] || die "$KTARBALL missing: run 'make deps'"
	echo "series: unpacking $KTARBALL into $BASE"
	rm -rf "$BASE" "$WORK" "$SDIR/check" "$SDIR/linux-source-6.12" "$SDIR/base.tmp"
	tmp=$SDIR/base.tmp
	mkdir -p "$tmp"
	tar -C "$tmp" -xf "$KTARBALL"
	mv "$tmp/linux-source-6.12" "$BASE"
	rmdir "$tmp"
	# Debian's top-level .gitignore ignores everything at the top level
	# (it is meant for the packaging repository): add by force.
	git -C "$BASE" init -q
	git -C "$BASE" add -f -A .
	GIT_AUTHOR_NAME="Debian kernel team" GIT_AUTHOR_EMAIL="debian-kernel@lists.debian.org" \
	GIT_COMMITTER_NAME="Debian kernel team" GIT_COMMITTER_EMAIL="debian-kernel@lists.debian.org" \
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git -C "$BASE" commit -q --no-verify -m "$want" \
		-m "The source of Debian's linux-source-6.12 package, $KTARBALL, as it is."
	git -C "$BASE" tag -f base > /dev/null
}

# A worktree of the base at $1, reset to the base. git only rewrites the
# files that differ, so a build in it stays incremental between runs.
mkwork()
{
	local d=$1

	if [ ! -e "$d/.git" ]; then
		git -C "$BASE" worktree prune
		git -C "$BASE" worktree add -q --detach "$d" base
	fi
	git -C "$d" am --abort > /dev/null 2>&1 || true
	git -C "$d" checkout -q --detach -f base
	git -C "$d" reset -q --hard base
	git -C "$d" clean -q -f -d -x
}

# Our files new to the kernel tree, as kernel.sh links them
our_files()
{
	(cd "$TOP" && git ls-files --cached --others --exclude-standard \
		drivers include samples tools Documentation)
}

# The core's Makefile for the objects given, in the final file's form
gen_makefile()
{
	local o last

	echo "# SPDX-License-Identifier: GPL-2.0-only"
	echo "ioasid_fd-y := \\"
	mapfile -t o < <(printf '%s\n' "$@" | grep -vx selftest.o | sort -u)
	last=${o[$((${#o[@]} - 1))]}
	for f in "${o[@]}"; do
		if [ "$f" = "$last" ]; then
			printf '\t%s\n' "$f"
		else
			printf '\t%s \\\n' "$f"
		fi
	done
	echo
	if printf '%s\n' "$@" | grep -qx selftest.o; then
		echo 'ioasid_fd-$(CONFIG_IOASID_FD_TEST) += selftest.o'
		echo
	fi
	echo 'obj-$(CONFIG_IOASID_FD) += ioasid_fd.o'
}

# The core's Kconfig (stdin) with only the options given: the lines
# before the first "config" and each chosen option's stanza (up to the
# next "config"), trailing blank lines dropped.
gen_kconfig()
{
	awk -v want=" $* " '
		/^config / { keep = index(want, " " $2 " ") > 0 }
		NR == 1 || keep { buf[++n] = $0 }
		END {
			while (n > 0 && buf[n] == "") n--
			for (i = 1; i <= n; i++) print buf[i]
		}'
}

# The cover letter template (stdin) with its @KEYS@ filled in
fill_cover()
{
	local bench=$CACHE/bench/latest/results.md tables

	tables=$SDIR/bench.txt
	if [ -f "$bench" ]; then
		python3 "$TOP/scripts/series-bench.py" "$bench" > "$tables" ||
			echo "(benchmark results unreadable: see README.md)" > "$tables"
	else
		echo "(no benchmark run in $CACHE/bench: see README.md, make bench)" > "$tables"
	fi
	awk -v n="$1" -v kv="$(kernel_version "$BASE")" -v deb="$(deb_version)" \
	    -v tables="$tables" '
		/^@BENCH@$/ { while ((getline l < tables) > 0) print l; next }
		{ gsub(/@N@/, n); gsub(/@KVERSION@/, kv); gsub(/@DEBVERSION@/, deb); print }'
}
