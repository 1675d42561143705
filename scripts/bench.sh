#!/usr/bin/env bash
# Benchmarks: ssh2cffi on CPython 3.11 and PyPy 3.9 (Debian 12, libssh2 1.11.1
# from .deps) and on CPython 3.13 and PyPy 3.11 (Debian 13's root, its libssh2
# 1.11.1), against ssh2-python 1.2.0.post1 from its wheels on CPython 3.11,
# CPython 3.13 and PyPy 3.11 (each bundles libssh2 1.11.1), paramiko (CPython
# and PyPy), plain C (bench/c/anchors.c) on each libssh2, and OpenSSH's sftp.
# Writes bench/results/results.{json,md,rst,png}, then bench/aio.py's asyncio
# comparison with asyncssh (bench/results/aio.{json,md}).
# Extra arguments go to bench/run.py (--rounds N, --only NAME...).
set -euo pipefail
REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
"$REPO/scripts/setup.sh" cpython-1.11 pypy-1.11 cpython3.13-1.11 pypy3.11-1.11
pip_install() { "$1" -m pip install -q --disable-pip-version-check "${@:2}"; }

# ssh2-python from its wheels, with parallel-ssh for the many-sessions row (installed
# as the test venvs get it, scripts/setup.sh).  In the Debian 13 root: the cp313 and
# pp311 wheels, what a user of those interpreters would otherwise pick.
ssh2_python_venv() {  # INTERPRETER VENV [RUNNER]
    local python="$1" venv="$2" runner=("${@:3}")
    [ -x "$venv/bin/python" ] || "${runner[@]}" "$python" -m venv "$venv"
    "${runner[@]}" "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$REPO/tests/requirements-ssh2-python.txt"
    "${runner[@]}" "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
        -r "$REPO/tests/requirements-parallel-ssh.txt"
}
# (The CPython ones are those setup.sh makes for tests/test_parity.py.)
venv_ssh2_python="$REPO/.venv/ssh2-python-cpython3.11"
ssh2_python_venv python3 "$venv_ssh2_python"
ssh2_python_venv python3 "$REPO/.venv/ssh2-python-cpython3.13" "$REPO/scripts/debian13.sh"
ssh2_python_venv pypy3 "$REPO/.venv/ssh2-python-pypy3.11" "$REPO/scripts/debian13.sh"
pip_install "$REPO/.venv/cpython-1.11/bin/python" matplotlib

# paramiko on both Debian 12 interpreters (PyPy 3.9 needs cryptography < 44 and bcrypt 4.0.1).
for interp in cpython pypy; do
    venv="$REPO/.venv/bench-paramiko-$interp"
    python=python3; [ "$interp" = pypy ] && python=pypy3
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    pip_install "$venv/bin/python" -r "$REPO/bench/requirements-paramiko.txt"
done

# The C anchors, built three times: against the same libssh2 1.11.1 as ssh2cffi on
# Debian 12; against the libssh2 + libcrypto that ssh2-python's wheel bundles
# (DT_RPATH, so the bundled libssh2 finds its bundled libcrypto too), which
# separates what the binding costs from what the library build costs; and in the
# Debian 13 root against its libssh2, the anchor of the Debian 13 columns.
prefix="$REPO/.deps/libssh2-1.11.1"
wheel_libs="$(echo "$venv_ssh2_python"/lib/python3*/site-packages/ssh2_python.libs)"
wheel_libssh2="$(echo "$wheel_libs"/libssh2-*.so*)"
source="$REPO/bench/c/anchors.c"
out="$REPO/.deps/bench/anchors"
mkdir -p "$REPO/.deps/bench"
cc -O2 -Wall -o "$out" "$source" -I"$prefix/include" -L"$prefix/lib" -Wl,-rpath,"$prefix/lib" -lssh2
if [ -f "$wheel_libssh2" ]; then
    cc -O2 -Wall -o "$out-ssh2-python-libs" "$source" -I"$prefix/include" \
       "$wheel_libssh2" -Wl,--disable-new-dtags,-rpath,"$wheel_libs"
fi
"$REPO/scripts/debian13.sh" cc -O2 -Wall -o "$out-debian13" "$source" -lssh2
"$REPO/.venv/cpython-1.11/bin/python" "$REPO/bench/run.py" "$@"
# asyncio: ssh2cffi.aio against asyncssh (its own table: bench/results/aio.md)
exec "$REPO/.venv/cpython-1.11/bin/python" "$REPO/bench/aio.py"
