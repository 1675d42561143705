#!/usr/bin/env bash
# Build libssh2 1.11.1 from Debian trixie's source package into a
# project-local prefix: <repo>/.deps/libssh2-1.11.1
#
# Idempotent: exits immediately if the prefix already holds libssh2 1.11.1.
# Needs root (apt-get) only when something has to be installed or fetched.
set -euo pipefail

LIBSSH2_VERSION=1.11.1
SUITE=trixie

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
DEPS_DIR="$REPO_ROOT/.deps"
PREFIX="$DEPS_DIR/libssh2-$LIBSSH2_VERSION"
PC_DIR="$PREFIX/lib/pkgconfig"
PC_FILE="$PC_DIR/libssh2.pc"

log() { printf '[build-libssh2] %s\n' "$*" >&2; }
die() { printf '[build-libssh2] ERROR: %s\n' "$*" >&2; exit 1; }

installed_version() {
    [[ -f "$PC_FILE" ]] || return 1
    command -v pkg-config >/dev/null 2>&1 || return 1
    PKG_CONFIG_PATH="$PC_DIR" PKG_CONFIG_LIBDIR="$PC_DIR" \
        pkg-config --modversion libssh2 2>/dev/null
}

# ---------------------------------------------------------------- fast path
if [[ "$(installed_version || true)" == "$LIBSSH2_VERSION" ]]; then
    log "libssh2 $LIBSSH2_VERSION already built in $PREFIX"
    exit 0
fi

# ------------------------------------------------------------ build deps
# only call apt-get install when something is actually missing
need_pkgs=()
dpkg -s dpkg-dev   >/dev/null 2>&1 || need_pkgs+=(dpkg-dev)
dpkg -s cmake      >/dev/null 2>&1 || need_pkgs+=(cmake)
dpkg -s pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || need_pkgs+=(libssl-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need_pkgs+=(zlib1g-dev)
dpkg -s gcc        >/dev/null 2>&1 || need_pkgs+=(gcc)
dpkg -s make       >/dev/null 2>&1 || need_pkgs+=(make)
dpkg -s binutils   >/dev/null 2>&1 || need_pkgs+=(binutils)
dpkg -s xz-utils   >/dev/null 2>&1 || need_pkgs+=(xz-utils)
dpkg -s debian-archive-keyring >/dev/null 2>&1 || need_pkgs+=(debian-archive-keyring)
if ((${#need_pkgs[@]})); then
    log "installing build dependencies: ${need_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}"
fi

# ------------------------------------------------- find the Debian mirror
# shellcheck source=scripts/debian-mirror.sh
source "$SCRIPT_DIR/debian-mirror.sh"
MIRROR="$(find_debian_mirror || true)"
[[ -n "$MIRROR" ]] || die "could not find a Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/"
MIRROR="${MIRROR%/}"
log "using Debian mirror $MIRROR ($SUITE, deb-src)"

# --------------------------------------------------- private apt config
SRC_ROOT="$DEPS_DIR/src"
APT_DIR="$SRC_ROOT/apt"
WORK_DIR="$SRC_ROOT/libssh2-$SUITE"
mkdir -p "$APT_DIR/lists/partial" "$WORK_DIR"
SOURCES_FILE="$APT_DIR/sources.list"
printf 'deb-src %s %s main\n' "$MIRROR" "$SUITE" > "$SOURCES_FILE"

APT_OPTS=(
    -o "Dir::Etc::sourcelist=$SOURCES_FILE"
    -o "Dir::Etc::sourceparts=/dev/null"
    -o "Dir::State::Lists=$APT_DIR/lists"
    # keep the system's binary/source package caches untouched
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    # our private dirs are root-owned; do not drop privileges to _apt
    -o "APT::Sandbox::User=root"
)
if [[ "$MIRROR" == *snapshot.debian.org* ]]; then
    APT_OPTS+=(-o "Acquire::Check-Valid-Until=false")
fi

# ----------------------------------------------------- fetch + unpack
shopt -s nullglob
dscs=("$WORK_DIR"/libssh2_"$LIBSSH2_VERSION"-*.dsc)
if ((${#dscs[@]} == 0)); then
    log "fetching $SUITE source index"
    apt-get -q update "${APT_OPTS[@]}"
    cand="$(apt-cache "${APT_OPTS[@]}" showsrc libssh2 2>/dev/null \
        | awk '/^Package: libssh2$/ {p=1} p && /^Version:/ {print $2; exit}')"
    [[ -n "$cand" ]] || die "libssh2 source package not found in $SUITE at $MIRROR"
    log "$SUITE has libssh2 source version $cand"
    upstream="${cand#*:}"; upstream="${upstream%-*}"
    [[ "$upstream" == "$LIBSSH2_VERSION" ]] \
        || die "Debian $SUITE ships libssh2 $cand (upstream $upstream), expected upstream $LIBSSH2_VERSION"
    (cd "$WORK_DIR" && apt-get -q source --download-only "${APT_OPTS[@]}" "libssh2=$cand")
    dscs=("$WORK_DIR"/libssh2_"$LIBSSH2_VERSION"-*.dsc)
fi
((${#dscs[@]} == 1)) || die "expected exactly one libssh2_$LIBSSH2_VERSION-*.dsc in $WORK_DIR, found ${#dscs[@]}"
DSC="${dscs[0]}"
shopt -u nullglob

SRC_DIR="$WORK_DIR/libssh2-$LIBSSH2_VERSION"
rm -rf "$SRC_DIR"
# File hashes were already verified by apt against the signed Release file.
log "unpacking $(basename "$DSC")"
(cd "$WORK_DIR" && dpkg-source --no-check -x "$(basename "$DSC")" "$SRC_DIR" >/dev/null)

# Verify the upstream version of what was unpacked.
hdr_ver="$(sed -n 's/^#define LIBSSH2_VERSION[ \t]*"\([^"]*\)".*/\1/p' "$SRC_DIR/include/libssh2.h")"
[[ "$hdr_ver" == "$LIBSSH2_VERSION" ]] \
    || die "unpacked source reports LIBSSH2_VERSION '$hdr_ver', expected $LIBSSH2_VERSION"

# ------------------------------------------------------------- build
BUILD_DIR="$WORK_DIR/build"
rm -rf "$BUILD_DIR" "$PREFIX"
log "configuring"
cmake -S "$SRC_DIR" -B "$BUILD_DIR" \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DBUILD_SHARED_LIBS=ON \
    -DBUILD_STATIC_LIBS=OFF \
    -DCRYPTO_BACKEND=OpenSSL \
    -DENABLE_ZLIB_COMPRESSION=ON \
    -DENABLE_DEBUG_LOGGING=ON \
    -DBUILD_EXAMPLES=OFF \
    -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=Release
log "building"
cmake --build "$BUILD_DIR" -j2
log "installing into $PREFIX"
cmake --install "$BUILD_DIR"

# ------------------------------------------------------------ verify
[[ -f "$PC_FILE" ]] || die "$PC_FILE was not installed"
got="$(installed_version || true)"
[[ "$got" == "$LIBSSH2_VERSION" ]] || die "pkg-config reports libssh2 '$got', expected $LIBSSH2_VERSION"
SO="$PREFIX/lib/libssh2.so"
[[ -e "$SO" ]] || die "$SO was not installed"
# Capture the symbol table first: `nm | grep -q` under pipefail fails at
# random, because grep exits at the first match and nm dies of SIGPIPE.
exported="$(nm -D --defined-only "$SO")"
for sym in libssh2_channel_signal_ex libssh2_trace_sethandler; do
    grep -qw "$sym" <<<"$exported" || die "$SO does not export $sym"
done
grep -q '^ENABLE_DEBUG_LOGGING:BOOL=ON$' "$BUILD_DIR/CMakeCache.txt" \
    || die "ENABLE_DEBUG_LOGGING is not ON in the cmake cache"

log "libssh2 $got installed in $PREFIX"
