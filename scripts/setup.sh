#!/usr/bin/env bash
# Set up everything ssh2cffi's demo and tests need on a fresh Debian 12 machine.
# Safe to run again: it installs only what is missing and rebuilds the binding.
#
#   scripts/setup.sh [VARIANT ...]
#
# A VARIANT is INTERPRETER-LIBSSH2 (default: all six):
#   cpython-1.10, pypy-1.10    Debian 12's CPython 3.11 / PyPy 3.9 on Debian 12's
#                              libssh2 1.10.0 (libssh2-1-dev)
#   cpython-1.11, pypy-1.11    the same interpreters on libssh2 1.11.1 built into
#                              .deps/ by scripts/build-libssh2.sh
#   cpython3.13-1.11,          Debian 13's CPython 3.13 / PyPy 3.11 on Debian 13's
#   pypy3.11-1.11              own libssh2 1.11.1, in the Debian 13 root that
#                              scripts/debian13.sh makes under .deps/debian13
# Each gets its own virtualenv in .venv/VARIANT with ssh2cffi built by
# `pip install .` against that libssh2.
set -euo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=scripts/variants.sh
source "$REPO/scripts/variants.sh"
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=("${ALL_VARIANTS[@]}")

log() { printf '[setup] %s\n' "$*" >&2; }

debian_major="$(. /etc/os-release && echo "${VERSION_ID%%.*}")"

# -- Debian 13 variants are set up by this same script, inside the Debian 13 root ----
if [ "$debian_major" != 13 ]; then
    here=() there=()
    for variant in "${VARIANTS[@]}"; do
        if is_debian13_variant "$variant"; then there+=("$variant"); else here+=("$variant"); fi
    done
    if [ ${#there[@]} -gt 0 ]; then
        "$REPO/scripts/debian13.sh" scripts/setup.sh "${there[@]}"
    fi
    [ ${#here[@]} -gt 0 ] || exit 0
    VARIANTS=("${here[@]}")
fi

# -- Debian packages -----------------------------------------------------------
packages=(libssh2-1-dev openssh-server openssh-client openssh-sftp-server pkg-config gcc
          make python3 python3-venv python3-dev pypy3 pypy3-venv pypy3-dev procps xauth)
if [ "$debian_major" != 13 ]; then
    # building libssh2 1.11.1 from source (scripts/build-libssh2.sh)
    packages+=(cmake libssl-dev zlib1g-dev dpkg-dev)
else
    packages+=(git)   # the minbase root has none; tests/test_packaging.py lists the tracked files
fi
missing=()
for pkg in "${packages[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == *"ok installed"* ]] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# -- the local account the sshd fixture uses for password authentication ------
if ! id ssh2cffi >/dev/null 2>&1; then
    log "creating local user ssh2cffi (password auth tests)"
    useradd --create-home --shell /bin/sh ssh2cffi
fi
echo 'ssh2cffi:ssh2cffi-pw' | chpasswd
mkdir -p /run/sshd

# -- libssh2 1.11.1 (Debian 12: built from source; Debian 13 ships it) -----------
if [ "$debian_major" != 13 ]; then
    for variant in "${VARIANTS[@]}"; do
        case "$variant" in *-1.11) "$REPO/scripts/build-libssh2.sh"; break;; esac
    done
fi

# -- one virtualenv per variant ------------------------------------------------------
for variant in "${VARIANTS[@]}"; do
    if is_debian13_variant "$variant"; then
        [ "$debian_major" = 13 ] || { echo "$variant runs in the Debian 13 root" >&2; exit 2; }
        pkg_config_path=""               # Debian 13's own libssh2 1.11.1
    else
        [ "$debian_major" != 13 ] || { echo "$variant runs on Debian 12" >&2; exit 2; }
        case "${variant##*-}" in
            1.10) pkg_config_path="" ;;  # Debian 12's libssh2 1.10.0
            1.11) pkg_config_path="$REPO/.deps/libssh2-1.11.1/lib/pkgconfig" ;;
            *) echo "unknown variant $variant" >&2; exit 2 ;;
        esac
    fi
    case "$variant" in
        cpython*) python=python3 ;;
        pypy*) python=pypy3 ;;
        *) echo "unknown variant $variant" >&2; exit 2 ;;
    esac
    venv="$REPO/.venv/$variant"
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv"
        "$python" -m venv "$venv"
    fi
    log "$variant: installing test requirements"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO/tests/requirements.txt"
    # parallel-ssh without its declared dependencies (they would pull in ssh2-python):
    # the file pins everything it needs (see its comments).
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
        -r "$REPO/tests/requirements-parallel-ssh.txt"
    log "$variant: building and installing ssh2cffi"
    # Build from a copy of the tree: setuptools keeps objects in build/, and one
    # libssh2's objects must never end up in another variant's extension.
    srccopy="$(mktemp -d)"
    cp -r "$REPO/build_ffi.py" "$REPO/setup.py" "$REPO/pyproject.toml" "$REPO/MANIFEST.in" \
          "$REPO/README.md" "$REPO/LICENSE" "$REPO/ffi" "$REPO/src" "$srccopy/"
    find "$srccopy/src" \( -name '*.so' -o -name '*.egg-info' -o -name __pycache__ \) -prune -exec rm -rf {} +
    PKG_CONFIG_PATH="$pkg_config_path" "$venv/bin/python" -m pip install -q \
        --disable-pip-version-check --force-reinstall --no-deps "$srccopy"
    rm -rf "$srccopy"
    "$venv/bin/python" -c "import sys, ssh2cffi.utils as u; print('[setup] $variant: ssh2cffi on libssh2', u.version().decode(), 'with Python', sys.version.split()[0])" >&2
done

# -- ssh2-python itself, for tests/test_parity.py (CPython variants) ---------------------
# From its PyPI wheel, in a virtualenv of its own: beside ssh2cffi it would turn the
# drop-in hook off (ssh2cffi never shadows a real ssh2-python).  One per interpreter:
# every CPython variant of this system has the same python3.
if [[ " ${VARIANTS[*]}" == *" cpython"* ]]; then
    version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    venv="$REPO/.venv/ssh2-python-cpython$version"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$REPO/tests/requirements-ssh2-python.txt"
fi
