#!/usr/bin/env bash
# Benchmarks: ssh2cffi on CPython and PyPy (libssh2 1.11.1) against ssh2-python
# (its PyPI wheel bundles libssh2 1.11.1), paramiko (CPython and PyPy), plain C on the same libssh2 and
# OpenSSH's sftp.  Writes bench/results/results.{json,md,png}.
# Extra arguments go to bench/run.py (--rounds N, --only NAME...).
set -euo pipefail
REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
"$REPO/scripts/setup.sh" cpython-1.11 pypy-1.11

venv_ssh2_python="$REPO/.venv/bench-ssh2-python"
[ -x "$venv_ssh2_python/bin/python" ] || python3 -m venv "$venv_ssh2_python"
"$venv_ssh2_python/bin/python" -m pip install -q --disable-pip-version-check ssh2-python==1.2.0.post1
# parallel-ssh for the many-sessions row, as the test venvs get it (scripts/setup.sh)
"$venv_ssh2_python/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
    -r "$REPO/tests/requirements-parallel-ssh.txt"
"$REPO/.venv/cpython-1.11/bin/python" -m pip install -q --disable-pip-version-check matplotlib

# paramiko on both interpreters (PyPy 3.9 needs cryptography < 44 and bcrypt 4.0.1).
for interp in cpython pypy; do
    venv="$REPO/.venv/bench-paramiko-$interp"
    python=python3; [ "$interp" = pypy ] && python=pypy3
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO/bench/requirements-paramiko.txt"
done

# The C anchors, each built twice: against the same libssh2 1.11.1 as ssh2cffi,
# and against the libssh2 + libcrypto that ssh2-python's wheel bundles (DT_RPATH,
# so the bundled libssh2 finds its bundled libcrypto too).  The second build
# separates what the binding costs from what the library build costs.
prefix="$REPO/.deps/libssh2-1.11.1"
wheel_libs="$(echo "$venv_ssh2_python"/lib/python3*/site-packages/ssh2_python.libs)"
wheel_libssh2="$(echo "$wheel_libs"/libssh2-*.so*)"
mkdir -p "$REPO/.deps/bench"
build_anchor() {  # NAME SOURCE
    cc -O2 -Wall -o "$REPO/.deps/bench/$1" "$2" -I"$prefix/include" -L"$prefix/lib" \
       -Wl,-rpath,"$prefix/lib" -lssh2
    if [ -f "$wheel_libssh2" ]; then
        cc -O2 -Wall -o "$REPO/.deps/bench/$1-ssh2-python-libs" "$2" -I"$prefix/include" \
           "$wheel_libssh2" -Wl,--disable-new-dtags,-rpath,"$wheel_libs"
    fi
}
src="$REPO/../shared/bench/raw_libssh2.c"
if [ -f "$src" ]; then
    build_anchor raw_libssh2 "$src"
else
    echo "[bench] $src not found: no plain-C throughput anchor in this run" >&2
fi
build_anchor anchors "$REPO/bench/c/anchors.c"
exec "$REPO/.venv/cpython-1.11/bin/python" "$REPO/bench/run.py" "$@"
