#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages the rig needs, and only those that are
# missing, so that a second run is a no-op and costs no network.
# ARCH=arm64 (make check-arm64) adds the cross compiler, QEMU for arm64
# and the guest's arm64 userland (see arm64_userland).
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
ccache
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
if [ "${ARCH:-}" = arm64 ]; then
	# rsync: the cross-built kernel's headers_install
	PKGS="$PKGS gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm rsync"
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

# The arm64 guest's busybox and the selftests' static liburing: Debian's
# busybox-static:arm64 and liburing-dev:arm64, unpacked into the cache
# (installing them would replace the host's busybox-static, which is not
# multi-arch). apt fetches them once the dpkg architecture arm64 is added.
arm64_userland()
{
	dir=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ioasid-fd}/arm64-userland
	[ "${ARCH:-}" = arm64 ] || return 0
	[ -x "$dir/bin/busybox" ] &&
		[ -f "$dir/usr/lib/aarch64-linux-gnu/liburing.a" ] && return 0
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "deps: adding the dpkg architecture arm64"
		$SUDO dpkg --add-architecture arm64
		$SUDO apt-get update -q
	fi
	echo "deps: unpacking busybox-static:arm64 liburing-dev:arm64 into $dir"
	rm -rf "$dir.debs"
	mkdir -p "$dir.debs" "$dir"
	(cd "$dir.debs" && apt-get download -q busybox-static:arm64 liburing-dev:arm64)
	for deb in "$dir.debs"/*.deb; do
		dpkg-deb -x "$deb" "$dir"
	done
	rm -rf "$dir.debs"
	[ -x "$dir/bin/busybox" ] || { echo "deps: no arm64 busybox" >&2; exit 1; }
}

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
	arm64_userland
	exit 0
fi

$SUDO apt-get update -q
[ -n "$hdr" ] || hdr=$(headers_pkg)
[ -n "$need_hdr" ] && missing="$missing $hdr"
echo "deps: installing$missing"
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing </dev/null
arm64_userland
