#!/usr/bin/env bash
# Set up everything ssh2cffi's demo and tests need on a fresh Debian 12 machine.
# Safe to run again: it installs only what is missing and rebuilds the binding.
#
#   scripts/setup.sh [VARIANT ...]
#
# A VARIANT is INTERPRETER-LIBSSH2: cpython-1.10, cpython-1.11, pypy-1.10,
# pypy-1.11 (default: all four).  Each gets its own virtualenv in .venv/VARIANT
# with ssh2cffi built by `pip install .` against that libssh2: 1.10 is Debian's
# libssh2-1-dev, 1.11 is 1.11.1 built by scripts/build-libssh2.sh.
set -euo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(cpython-1.10 cpython-1.11 pypy-1.10 pypy-1.11)

log() { printf '[setup] %s\n' "$*" >&2; }

# -- Debian packages -----------------------------------------------------------
packages=(libssh2-1-dev openssh-server openssh-client pkg-config cmake gcc make
          libssl-dev zlib1g-dev dpkg-dev python3 python3-venv python3-dev
          pypy3 pypy3-venv pypy3-dev procps xauth)
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

# -- libssh2 1.11.1 --------------------------------------------------------------
for variant in "${VARIANTS[@]}"; do
    case "$variant" in *-1.11) "$REPO/scripts/build-libssh2.sh"; break;; esac
done

# -- one virtualenv per variant ------------------------------------------------------
for variant in "${VARIANTS[@]}"; do
    interp="${variant%-*}"
    libssh2="${variant#*-}"
    case "$interp" in
        cpython) python=python3 ;;
        pypy) python=pypy3 ;;
        *) echo "unknown variant $variant" >&2; exit 2 ;;
    esac
    case "$libssh2" in
        1.10) pkg_config_path="" ;;
        1.11) pkg_config_path="$REPO/.deps/libssh2-1.11.1/lib/pkgconfig" ;;
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
    "$venv/bin/python" -c "import ssh2cffi.utils as u; print('[setup] $variant: ssh2cffi on libssh2', u.version().decode())" >&2
done
