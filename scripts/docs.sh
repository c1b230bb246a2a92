#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make docs: build the kernel's userspace-api book, which holds our user
# guide (Documentation/userspace-api/ioasid_fd.rst, indexed by patches/),
# as HTML, and refuse any warning about our files.
#
#  - $KSRC is prepared as for a kernel build (our files linked, patches/
#    applied); the build goes to its own O= directory, $DOCS, so that the
#    source tree stays clean for the O= kernel builds;
#  - Sphinx and kernel-doc warnings that name one of our files (every
#    path of ours has "ioasid" in it, and no upstream file does; the
#    paths of $KSRC and $CACHE are taken out first) fail the build and
#    are printed; the rest of userspace-api has warnings of its
#    own with Debian's Sphinx, which are only counted;
#  - every run reads all of userspace-api again (-E): Sphinx only reports
#    the warnings of the files it reads, so an incremental build would
#    hide the warnings of a guide that did not change;
#  - the guide must pull in, with kernel-doc, every structure, enum,
#    macro and DOC block the uAPI header documents, each exactly once
#    (twice would be a duplicate C declaration).
#
# Installs, if missing and as series-check.sh does, python3-sphinx and
# python3-yaml (the docs build converts the netlink specs, whatever
# SPHINXDIRS says). 6.12's default theme, alabaster, comes with Sphinx.
set -uo pipefail
. "$(dirname "$0")/env.sh"

DOCS=${DOCS:-$CACHE/docs}
HTML=$DOCS/Documentation/output/userspace-api/ioasid_fd.html
LOG=$DOCS/build.log

mkdir -p "$DOCS"
pkgs=
command -v sphinx-build > /dev/null || pkgs="$pkgs python3-sphinx"
/usr/bin/python3 -c 'import yaml' 2> /dev/null || pkgs="$pkgs python3-yaml"
if [ -n "$pkgs" ]; then
	echo "docs: installing$pkgs"
	if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $pkgs > "$DOCS/apt.log" 2>&1 ||
		die "cannot install$pkgs, see $DOCS/apt.log"
fi

"$TOP/scripts/kernel.sh" prepare > /dev/null || die "cannot prepare $KSRC"
grep -qx '   ioasid_fd' "$KSRC/Documentation/userspace-api/index.rst" ||
	die "userspace-api/index.rst does not list ioasid_fd: see patches/"

# The names the uAPI header documents, and those the guide pulls in with
# :identifiers: and :doc:
UAPI=include/uapi/linux/ioasid_fd.h
RST=Documentation/userspace-api/ioasid_fd.rst
header_names()
{
	"$KSRC/scripts/kernel-doc" -rst "$TOP/$UAPI" |
		sed -n 's/^\.\. c:[a-z]*:: \([A-Za-z0-9_]*\).*/\1/p'
	sed -n 's/^ \* DOC: //p' "$TOP/$UAPI"
}
guide_names()
{
	awk -v uapi="$UAPI" '
	$1 == ".." && $2 == "kernel-doc::" { in_uapi = ($3 == uapi); opt = ""; next }
	!in_uapi { next }
	/^   :identifiers:/ { opt = "id"; for (i = 2; i <= NF; i++) print $i; next }
	/^   :doc:/ { opt = ""; sub(/^   :doc: */, ""); print; next }
	/^   :/ { opt = ""; next }
	/^     / && opt == "id" { for (i = 1; i <= NF; i++) print $i; next }
	{ in_uapi = 0 }' "$TOP/$RST"
}
missing=$(comm -23 <(header_names | sort -u) <(guide_names | sort -u))
twice=$(guide_names | sort | uniq -d)
unknown=$(comm -13 <(header_names | sort -u) <(guide_names | sort -u))
bad=
if [ -n "$missing" ]; then
	echo "docs: $RST does not pull in from $UAPI: ${missing//$'\n'/ }"
	bad=1
fi
if [ -n "$twice" ]; then
	echo "docs: $RST pulls in more than once: ${twice//$'\n'/ }"
	bad=1
fi
if [ -n "$unknown" ]; then
	echo "docs: $RST names what $UAPI does not document: ${unknown//$'\n'/ }"
	bad=1
fi

echo "docs: sphinx-build $(sphinx-build --version | awk '{ print $NF }'), userspace-api into $DOCS"
start=$(date +%s)
make -C "$KSRC" O="$DOCS" -j"$JOBS" SPHINXDIRS=userspace-api \
	SPHINXOPTS="-E -q" htmldocs > "$LOG" 2>&1
rc=$?
secs=$(($(date +%s) - start))

# One message per warning: a line that says WARNING/ERROR (Sphinx) or
# warning:/error: (kernel-doc), with the lines that continue it; paths
# relative to $KSRC, and $CACHE, which has "ioasid" in its name, named.
split_messages()
{
	sed -e "s|$KSRC/||g" -e "s|$CACHE|\$CACHE|g" "$LOG" | awk '
	/(WARNING|ERROR|SEVERE|CRITICAL):|(warning|error):/ {
		if (msg != "") print msg
		msg = $0
		next
	}
	/^make|^  [A-Z]+ / { if (msg != "") print msg; msg = ""; next }
	msg != "" { msg = msg "\\n" $0 }
	END { if (msg != "") print msg }'
}
ours=$(split_messages | grep -i ioasid)
others=$(split_messages | grep -vic ioasid)

if [ -n "$ours" ]; then
	echo "docs: warnings about our files:"
	echo "${ours//\\n/$'\n'}"
fi
echo "docs: $others warning(s) elsewhere in userspace-api (upstream's, ignored; see $LOG)"
printf 'docs: built in %dm%02ds\n' $((secs / 60)) $((secs % 60))
if [ $rc -ne 0 ]; then
	tail -20 "$LOG"
	die "the docs build failed (rc $rc), see $LOG"
fi
[ -z "$ours" ] || die "$(echo "$ours" | wc -l) warning(s) about our files"
[ -z "$bad" ] || die "the guide does not pull in the uAPI header as it should"
[ -f "$HTML" ] || die "no $HTML"
echo "docs: open file://$HTML"
