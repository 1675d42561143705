#!/usr/bin/env bash
# A Debian 13 (trixie) root under .deps/debian13, for the test variants that
# need Debian 13's interpreters (PyPy 3.11, CPython 3.13), its libssh2 1.11.1
# and its OpenSSH 10 sshd.  Debian 13's packages need a newer glibc than
# Debian 12 has, so they run in a chroot that shares this machine's network
# (loopback included) and kernel.
#
#   scripts/debian13.sh COMMAND [ARG ...]     run COMMAND inside the root
#
# COMMAND runs as root in the repository's directory, which is bind-mounted at
# the same path inside the root (so .venv/ and .deps/ are shared and paths
# read the same inside and out); /tmp is this machine's too, so files made
# there (keys, wheels, benchmark data) are seen on both sides.  The root is made on first use with
# debootstrap (minbase, from the Debian mirror apt already uses); the Debian
# packages the tests need are installed by scripts/setup.sh running inside.
#
# Every mount (/proc, /dev, /tmp, the repository, pip's cache) is made in a private
# mount namespace, and COMMAND runs in its own PID namespace: when COMMAND
# ends, or this script is interrupted (Ctrl-C, SIGTERM, SIGHUP), the kernel
# removes the mounts and ends every process left inside (an sshd a test
# started, say).  Nothing leaks onto the machine, and running it twice is safe.
set -euo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
ROOT="$REPO/.deps/debian13"
SUITE=trixie
READY="$ROOT/.ssh2cffi-root-ready"

log() { printf '[debian13] %s\n' "$*" >&2; }
die() { printf '[debian13] ERROR: %s\n' "$*" >&2; exit 1; }

[ $# -gt 0 ] || die "usage: scripts/debian13.sh COMMAND [ARG ...]"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
command -v unshare >/dev/null || die "needs unshare (util-linux)"

mounted_below() {  # is anything mounted at or below $1 in this namespace?
    awk -v dir="$1" '$5 == dir || index($5, dir "/") == 1 { found = 1 } END { exit !found }' \
        /proc/self/mountinfo
}

# -- make the root once ---------------------------------------------------------------
if [ ! -f "$READY" ]; then
    if ! command -v debootstrap >/dev/null; then
        log "installing debootstrap"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            debootstrap >/dev/null
    fi
    # shellcheck source=scripts/debian-mirror.sh
    source "$REPO/scripts/debian-mirror.sh"
    mirror="$(find_debian_mirror || true)"
    [ -n "$mirror" ] || die "could not find a Debian mirror in apt's sources"
    partial="$ROOT.partial"
    # Mounts only ever exist inside our private namespaces, so none can be here;
    # check anyway before deleting a half-made root.
    for dir in "$ROOT" "$partial"; do
        ! mounted_below "$dir" || die "something is mounted under $dir; unmount it first"
    done
    rm -rf "$partial" "$ROOT"
    mkdir -p "$(dirname "$ROOT")"
    log "debootstrap --variant=minbase $SUITE from $mirror (about half a minute)"
    # debootstrap mounts /proc and /sys in the target itself: keep those mounts
    # in a namespace of their own so an interrupted run leaves none behind.
    if ! unshare --mount --propagation private -- \
            debootstrap --variant=minbase "$SUITE" "$partial" "$mirror" >"$partial.log" 2>&1; then
        tail -n 30 "$partial.log" >&2
        die "debootstrap failed (full log: $partial.log)"
    fi
    rm -f "$partial.log"
    touch "$partial/.ssh2cffi-root-ready"
    mv "$partial" "$ROOT"
    log "Debian $(cat "$ROOT/etc/debian_version") root ready in $ROOT"
fi

# -- what COMMAND sees ------------------------------------------------------------------
# A clean environment: the host's PATH and pip settings point at things the
# root does not have.  Test knobs are passed on.
envs=(HOME=/root LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
      DEBIAN_FRONTEND=noninteractive)
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then   # copied in below
    host_ca=/etc/ssl/ssh2cffi-host-ca-certificates.crt
    envs+=(PIP_CERT="$host_ca" SSL_CERT_FILE="$host_ca" REQUESTS_CA_BUNDLE="$host_ca")
fi
while IFS= read -r -d '' pair; do
    case "$pair" in
        SSH2CFFI_*=*|HYPOTHESIS_*=*|PYTEST_*=*|CI=*|TERM=*|PIP_DEFAULT_TIMEOUT=*) envs+=("$pair") ;;
    esac
done < <(env -0)

# Runs as PID 1 of the new PID namespace, in the new mount namespace.
inside='
set -euo pipefail
root="$1" repo="$2"; shift 2
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"              # /dev/pts (ptys) and /dev/shm with it
mount --bind /tmp "$root/tmp"                # first: the repository may be under /tmp
mkdir -p "$root$repo" "$root/root/.cache/pip" /root/.cache/pip
mount --bind "$repo" "$root$repo"
mount --bind /root/.cache/pip "$root/root/.cache/pip"   # built wheels (gevent) survive the root
# Name resolution and this machine'"'"'s view of TLS: pip inside fails certificate
# checks where the machine adds its own certificate authority, unless it has
# the same bundle (PIP_CERT and friends point at it: a path of its own, which
# installing ca-certificates in the root cannot overwrite) and pip settings.
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$root/etc/ssl"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/ssh2cffi-host-ca-certificates.crt"
fi
if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$root/etc/pip.conf"; fi
if [ -d /etc/xdg/pip ]; then mkdir -p "$root/etc/xdg"; rm -rf "$root/etc/xdg/pip"; cp -r /etc/xdg/pip "$root/etc/xdg/"; fi
# Not exec: this bash stays PID 1 of the namespace, and bash reaps the orphans
# that are handed to PID 1 (sshd'"'"'s per-connection processes, say), which the
# COMMAND would leave as zombies.
status=0
chroot "$root" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$repo" "$@" || status=$?
exit "$status"
'
# unshare ignores SIGINT and SIGTERM itself (they are for the command): on
# either, or on SIGHUP, kill the namespace's PID 1, which makes the kernel end
# every process in the namespace and drop its mounts.  (--kill-child does the
# same if unshare dies.)  "<&0": a background job would otherwise get /dev/null.
unshare --mount --pid --fork --kill-child --propagation private -- \
    bash -c "$inside" bash "$ROOT" "$REPO" /usr/bin/env -i "${envs[@]}" "$@" <&0 &
unshare_pid=$!
trap 'pkill -KILL -P "$unshare_pid" 2>/dev/null || true' INT TERM HUP
status=0
wait "$unshare_pid" || status=$?
while kill -0 "$unshare_pid" 2>/dev/null; do  # a trapped signal cut the wait short
    status=0
    wait "$unshare_pid" || status=$?
done
exit "$status"
