#!/usr/bin/env bash
# valgrind memcheck over a CPython run of the core tests (libssh2 1.11.1 build).
#
#   scripts/valgrind.sh [PYTEST ARGS ...]     (default: the core test files below)
#
# CPython runs with PYTHONMALLOC=malloc, so every Python allocation goes
# through malloc and memcheck sees it.  CPython's own tricks (and OpenSSL's)
# produce reports that have nothing to do with us, so rather than maintaining
# a suppression file, scripts/valgrind_summary.py keeps only the errors with
# a frame inside libssh2 or ssh2cffi's extension module (_libssh2*.so) in
# their stack, and fails if any of those is an invalid read, write or free.
# Child interpreters (the crash tests run code in them) are traced too.
set -uo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="$REPO/.venv/cpython-1.11"
[ -x "$VENV/bin/python" ] || "$REPO/scripts/setup.sh" cpython-1.11 || exit 1
command -v valgrind >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null || exit 1; }

TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(tests/test_session.py tests/test_channel.py tests/test_sftp.py
                                 tests/test_lifetime.py tests/test_knownhost.py)
LOGDIR="$(mktemp -d /tmp/ssh2cffi-valgrind.XXXXXX)"
echo "[valgrind] logs in $LOGDIR" >&2

cd "$REPO" && PYTHONMALLOC=malloc SSH2CFFI_EXPECT_LIBSSH2=1.11 \
    SSH2CFFI_VALGRIND=1 \
    valgrind --tool=memcheck --error-limit=no --num-callers=40 \
        --trace-children=yes \
        --trace-children-skip='/usr/sbin/*,/sbin/*,/usr/bin/ssh*,/usr/bin/ssh-keygen,/bin/*,/usr/bin/env,/usr/lib/openssh/*,/usr/bin/[a-oq-z]*' \
        --log-file="$LOGDIR/vg.%p.log" \
        "$VENV/bin/python" -m pytest -p no:cacheprovider -q "${TESTS[@]}"
status=$?
"$VENV/bin/python" "$REPO/scripts/valgrind_summary.py" "$LOGDIR"/vg.*.log || status=1
exit $status
