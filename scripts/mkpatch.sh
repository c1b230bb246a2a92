#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Turn the difference between two kernel-shaped trees into a patch for
# patches/, in the form git format-patch writes, so that checkpatch,
# `patch -p1` and `git am` all accept it.
#
#   scripts/mkpatch.sh OLD NEW "subsystem: Subject" BODY-FILE > patches/NNNN-x.patch
set -eu
old=$1 new=$2 subject=$3 body=$4
name=$(git config user.name)
email=$(git config user.email)
diff=$(mktemp)
trap 'rm -f "$diff"' EXIT

# git diff --no-index names files by the paths given; rewrite them to a/ b/.
git diff --no-index --no-prefix --full-index "$old" "$new" |
	sed -e "s|^diff --git $old/\(.*\) $new/|diff --git a/\1 b/|" \
	    -e "s|^--- $old/|--- a/|" -e "s|^+++ $new/|+++ b/|" > "$diff" || true

printf 'From: %s <%s>\n' "$name" "$email"
printf 'Subject: [PATCH] %s\n\n' "$subject"
cat "$body"
printf '\nSigned-off-by: %s <%s>\n---\n' "$name" "$email"
git apply --stat "$diff"
echo
cat "$diff"
printf -- '-- \n2.39.5\n\n'
