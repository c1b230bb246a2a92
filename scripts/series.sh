#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make series: turn the tree into a numbered patch series against the
# 6.12 source the rig uses, with a cover letter.
#
#  - $SERIES_DIR/base: Debian's linux-source-6.12 tarball, unpacked once
#    into a git repository with one root commit (tagged "base");
#  - $SERIES_DIR/work: a worktree of it, reset to the base, on which each
#    patch of series/series.txt is committed: our files copied in,
#    patches/*.patch applied, the core's Makefile and Kconfig generated
#    for the objects and options present so far;
#  - $SERIES_DIR/out: git format-patch --cover-letter of those commits,
#    the cover letter filled in from series/cover-letter.txt.
#
# At the end the work tree must hold every one of our files exactly as
# the repository does, and every patches/*.patch must have been used
# once: the series is the tree, split.
set -euo pipefail
. "$(dirname "$0")/env.sh"
. "$TOP/scripts/series-lib.sh"

base_repo
mkwork "$WORK"

# Read series/series.txt into one file per patch under $SDIR/split/
rm -rf "$SDIR/split"
mkdir -p "$SDIR/split"
awk -v dir="$SDIR/split" '
	/^#/ { next }
	/^== / {
		n++
		f = sprintf("%s/%02d", dir, n)
		print substr($0, 4) > (f ".head")
		inbody = 0
		next
	}
	n == 0 { next }
	!inbody && /^(files|objs|kconfig|grows):/ {
		key = $1; sub(/:$/, "", key)
		val = $0; sub(/^[a-z]+:[ \t]*/, "", val)
		print val >> (f "." key)
		next
	}
	!inbody && /^$/ { inbody = 1; next }
	{ inbody = 1; print > (f ".body") }
' "$TOP/series/series.txt"

# Identity and date of every commit: those of the existing patches (the
# date of the repository's last commit), so that two runs on the same
# tree give the same series.
ident=$(sed -n 's/^From: //p' "$(ls "$TOP"/patches/*.patch | head -n 1)")
export GIT_AUTHOR_NAME=${ident% <*} GIT_COMMITTER_NAME=${ident% <*}
ident=${ident##*<}
export GIT_AUTHOR_EMAIL=${ident%>} GIT_COMMITTER_EMAIL=${ident%>}
date=$(git -C "$TOP" log -1 --format=%cI 2>/dev/null || date -R)
export GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date
signoff="Signed-off-by: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>"

# Files that grow between patches. A "grows:" diff turns a file as the
# series has it so far into what its patch needs (main.c's ioctl table
# gains each layer's ioctls in that layer's patch). The version a
# "files:" stanza adds is the repository's with every diff of the later
# patches taken back, newest first: $SDIR/stage holds those versions.
STAGE=$SDIR/stage
rm -rf "$STAGE"
mkdir -p "$STAGE"
grows=()
for g in "$SDIR"/split/*.grows; do
	[ -f "$g" ] || continue
	for d in $(cat "$g"); do
		[ -f "$TOP/$d" ] || die "series.txt: no $d"
		grows+=("$d")
	done
done
diff_files()
{
	sed -n 's|^+++ b/\([^\t ]*\).*|\1|p' "$1"
}
for d in ${grows[@]+"${grows[@]}"}; do
	for f in $(diff_files "$TOP/$d"); do
		[ -f "$STAGE/$f" ] && continue
		mkdir -p "$(dirname "$STAGE/$f")"
		cp "$TOP/$f" "$STAGE/$f"
	done
done
for ((i = ${#grows[@]} - 1; i >= 0; i--)); do
	patch -d "$STAGE" -p1 -R -s --fuzz=0 --no-backup-if-mismatch \
		< "$TOP/${grows[$i]}" > /dev/null ||
		die "${grows[$i]} cannot be taken back from the repository's files: refresh it"
done

objs=()
kopts=()
used=()
for head in "$SDIR"/split/*.head; do
	p=${head%.head}
	h=$(cat "$head")
	msg=$SDIR/split/msg
	: > "$msg"
	if [[ $h == patches/* ]]; then
		# One of our patches, message as it is; the stanza's body,
		# if any, is a paragraph appended to it
		pf=$TOP/$h
		[ -f "$pf" ] || die "series.txt: no $h"
		used+=("$(basename "$pf")")
		sed -n 's/^Subject: \(\[[^]]*\] \)\?//p' "$pf" | head -n 1 > "$msg"
		# The body: from after the Subject's blank line to the
		# Signed-off-by
		awk '/^Subject:/ { s = 1; next }
		     s == 1 && /^$/ { s = 2; next }
		     s == 2 && /^Signed-off-by:/ { exit }
		     s == 2 { print }' "$pf" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$p.pbody"
		{ echo; cat "$p.pbody"; } >> "$msg"
		git -C "$WORK" apply --index "$pf" || die "$h does not apply"
	else
		echo "$h" > "$msg"
	fi
	if [ -s "$p.body" ]; then
		{ echo; cat "$p.body"; } >> "$msg"
	fi
	printf '\n%s\n' "$signoff" >> "$msg"

	if [ -f "$p.files" ]; then
		# A folder (ending in /) is all of our files under it
		for f in $(for e in $(cat "$p.files"); do
				case $e in
				*/) our_files | grep "^$e" ||
					die "series.txt: nothing in $e" ;;
				*) echo "$e" ;;
				esac
			   done); do
			[ -f "$TOP/$f" ] || die "series.txt: no $f"
			mkdir -p "$(dirname "$WORK/$f")"
			if [ -f "$STAGE/$f" ]; then
				cp "$STAGE/$f" "$WORK/$f"
			else
				cp "$TOP/$f" "$WORK/$f"
			fi
			git -C "$WORK" add -f "$f"
		done
	fi
	if [ -f "$p.grows" ]; then
		for d in $(cat "$p.grows"); do
			git -C "$WORK" apply --index "$TOP/$d" ||
				die "$d does not apply at: $h"
		done
	fi
	if [ -f "$p.objs" ]; then
		read -r -a more < "$p.objs"
		objs+=("${more[@]}")
		gen_makefile "${objs[@]}" > "$WORK/$CORE/Makefile"
		git -C "$WORK" add -f "$CORE/Makefile"
	fi
	if [ -f "$p.kconfig" ]; then
		read -r -a more < "$p.kconfig"
		kopts+=("${more[@]}")
		gen_kconfig "${kopts[@]}" < "$TOP/$CORE/Kconfig" > "$WORK/$CORE/Kconfig"
		git -C "$WORK" add -f "$CORE/Kconfig"
	fi
	git -C "$WORK" commit -q --no-verify -F "$msg" ||
		die "nothing to commit for: $h"
done

# The series must be the tree
bad=0
while read -r f; do
	if ! cmp -s "$TOP/$f" "$WORK/$f"; then
		echo "series: $f differs from the repository's (or is missing)" >&2
		bad=1
	fi
done < <(our_files)
for pf in "$TOP"/patches/*.patch; do
	n=0
	for u in "${used[@]}"; do
		[ "$u" = "$(basename "$pf")" ] && n=$((n + 1))
	done
	if [ $n -ne 1 ]; then
		echo "series: patches/$(basename "$pf") used $n times" >&2
		bad=1
	fi
done
[ $bad -eq 0 ] || die "series/series.txt does not add up to the tree"

# The patches, and the cover letter from the template
rm -rf "$OUTD"
mkdir -p "$OUTD"
git -C "$WORK" format-patch -q --cover-letter --base=base --thread=shallow \
	--subject-prefix="RFC PATCH" -o "$OUTD" base..HEAD > /dev/null
cover=$(ls "$OUTD"/0000-cover-letter.patch)
n=$(git -C "$WORK" rev-list --count base..HEAD)
fill_cover "$n" < "$TOP/series/cover-letter.txt" > "$SDIR/cover.txt"
python3 - "$cover" "$SDIR/cover.txt" <<'EOF'
import sys
path, blurb = sys.argv[1], open(sys.argv[2]).read()
subject, _, body = blurb.partition("\n")
text = open(path).read()
text = text.replace("*** SUBJECT HERE ***", subject.strip(), 1)
text = text.replace("*** BLURB HERE ***", body.strip("\n"), 1)
open(path, "w").write(text)
EOF
# git folds a header longer than 78 columns (From:, Subject:); Debian's
# b4 0.12 cannot copy a folded header into the messages it writes
# (ValueError: linefeed in header). Unfold them: a header line stays far
# below the 998 columns RFC 5322 allows.
python3 - "$OUTD"/*.patch <<'EOF'
import re
import sys
for path in sys.argv[1:]:
    text = open(path).read()
    head, sep, body = text.partition("\n\n")
    head = re.sub(r"\n[ \t]+", " ", head)
    open(path, "w").write(head + sep + body)
EOF
cat "$OUTD"/*.patch > "$SDIR/series.mbox"

echo "series: $n patches on $(git -C "$BASE" log -1 --format=%s base)"
git -C "$WORK" log --reverse --format='  %s' base..HEAD
echo "series: $OUTD"
echo "series: $SDIR/series.mbox (all of them, for git am or b4)"
