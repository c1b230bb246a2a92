# SPDX-License-Identifier: GPL-2.0
# Sourced by the rig scripts: where things live. Every path can be
# overridden from the environment or the make command line.

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ioasid-fd}
KTARBALL=${KTARBALL:-/usr/src/linux-source-6.12.tar.xz}
KSRC=${KSRC:-$CACHE/linux-source-6.12}
# DEBUG=1: the debug kernel (scripts/debug.config on top of the normal
# fragments), built and run beside the normal one, from the same $KSRC
[ "${DEBUG:-}" = 1 ] || DEBUG=
# ARCH=arm64 (make check-arm64): an arm64 kernel from the same $KSRC,
# cross-built for QEMU's virt machine with an SMMUv3, with its own build
# and output directories. Any other ARCH is the x86 rig's.
if [ "${ARCH:-}" = arm64 ]; then
	export CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
	KOBJ=${KOBJ:-$CACHE/build-arm64}
	OUT=${OUT:-$CACHE/out-arm64}
fi
if [ -n "$DEBUG" ]; then
	KOBJ=${KOBJ:-$CACHE/build-debug}
	OUT=${OUT:-$CACHE/out-debug}
fi
KOBJ=${KOBJ:-$CACHE/build}
JOBS=${JOBS:-$(($(nproc) + 1))}
# Test binaries, initramfs and logs of the last run
OUT=${OUT:-$CACHE/out}

# Every compiler call of the rig goes through ccache (Debian's
# /usr/lib/ccache: gcc and the cross gcc under their own names, so no
# make command line changes and no build is redone because of it). Paths
# are hashed relative to $CACHE and the working directory is not hashed,
# so a tree laid out as the rig's ($CACHE/series/linux-source-6.12 built
# in $CACHE/series/build, as $KSRC in $CACHE/build) reuses its objects:
# series-check compiles only what the series' steps change.
if [ -d /usr/lib/ccache ] && [ -z "${IOASID_NO_CCACHE:-}" ]; then
	case :$PATH: in
	*:/usr/lib/ccache:*) ;;
	*) PATH=/usr/lib/ccache:$PATH ;;
	esac
	export PATH CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache} CCACHE_BASEDIR=$CACHE
	export CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
	# ccache hands gcc the source as ../linux-source-6.12/<file>, which
	# Kbuild's -fmacro-prefix-map=$(srctree)/= does not match: map it
	# too, so that __FILE__ (WARN, BUG, dynamic debug) is drivers/... as
	# in a build without ccache
	case " ${KCPPFLAGS:-} " in
	*" -fmacro-prefix-map=../linux-source-6.12/= "*) ;;
	*) export KCPPFLAGS="${KCPPFLAGS:+$KCPPFLAGS }-fmacro-prefix-map=../linux-source-6.12/=" ;;
	esac
fi

die()
{
	echo "$(basename "$0"): $*" >&2
	exit 1
}
