#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages the rig needs, and only those that are
# missing, so that a second run is a no-op and costs no network.
set -eu

# The 6.12 headers package has the ABI in its name; pick the newest one
# that the archive offers unless one is already installed.
headers_pkg()
{
	installed=$(dpkg-query -W -f='${Package} ${Status}\n' \
			'linux-headers-6.12.*-amd64' 2>/dev/null |
		    awk '$4 == "installed" && $1 !~ /(rt|cloud)-amd64$/ { print $1 }' |
		    sort -V | tail -n 1)
	if [ -n "$installed" ]; then
		echo "$installed"
		return
	fi
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		awk '{ print $1 }' | sort -V | tail -n 1
}

PKGS="
bc
bison
busybox-static
cpio
flex
gcc
git
kmod
libelf-dev
liburing-dev
libssl-dev
linux-source-6.12
make
perl
python3
qemu-system-x86
sparse
xz-utils
"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

hdr=$(headers_pkg)
if [ -z "$hdr" ] || ! dpkg-query -W -f='${Status}' "$hdr" 2>/dev/null | grep -q 'ok installed'; then
	need_hdr=1
else
	need_hdr=
fi

if [ -z "$missing" ] && [ -z "$need_hdr" ]; then
	echo "deps: all packages present"
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
[ -n "$hdr" ] || hdr=$(headers_pkg)
[ -n "$need_hdr" ] && missing="$missing $hdr"
echo "deps: installing$missing"
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing </dev/null
