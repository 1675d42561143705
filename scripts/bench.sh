#!/usr/bin/env bash
# Benchmarks: ssh2cffi on CPython and PyPy (libssh2 1.11.1) against ssh2-python
# (its PyPI wheel bundles libssh2 1.11.1), paramiko (CPython and PyPy), plain C on the same libssh2 and
# OpenSSH's sftp.  Writes bench/results/results.{json,md,png}.
# Extra arguments go to bench/run.py (--rounds N, --only NAME...).
set -euo pipefail
REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
"$REPO/scripts/setup.sh" cpython-1.11 pypy-1.11

venv="$REPO/.venv/bench-ssh2-python"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check ssh2-python==1.2.0.post1
"$REPO/.venv/cpython-1.11/bin/python" -m pip install -q --disable-pip-version-check matplotlib

# paramiko on both interpreters (PyPy 3.9 needs cryptography < 44 and bcrypt 4.0.1).
for interp in cpython pypy; do
    venv="$REPO/.venv/bench-paramiko-$interp"
    python=python3; [ "$interp" = pypy ] && python=pypy3
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO/bench/requirements-paramiko.txt"
done

# The C anchor, built against the same libssh2 1.11.1 as ssh2cffi.
src="$REPO/../shared/bench/raw_libssh2.c"
prefix="$REPO/.deps/libssh2-1.11.1"
if [ -f "$src" ]; then
    mkdir -p "$REPO/.deps/bench"
    cc -O2 -o "$REPO/.deps/bench/raw_libssh2" "$src" -I"$prefix/include" -L"$prefix/lib" \
       -Wl,-rpath,"$prefix/lib" -lssh2
else
    echo "[bench] $src not found: no plain-C anchor in this run" >&2
fi
cc -O2 -Wall -o "$REPO/.deps/bench/anchors" "$REPO/bench/c/anchors.c" -I"$prefix/include" \
   -L"$prefix/lib" -Wl,-rpath,"$prefix/lib" -lssh2
exec "$REPO/.venv/cpython-1.11/bin/python" "$REPO/bench/run.py" "$@"
