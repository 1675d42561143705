#!/usr/bin/env bash
# The long versions of the reliability tests (bad-input fuzz, faults, load and
# leaks, lifetimes, threads, secrets) on CPython and PyPy, then valgrind
# memcheck over a CPython run of the core tests (scripts/valgrind.sh).
#
#   scripts/stress.sh [PYTEST ARGS ...]
#
# scripts/test.sh runs the same tests in their short versions.  Sizes can be
# set through the environment (defaults in brackets):
#   SSH2CFFI_FUZZ_EXAMPLES        hypothesis examples per method and phase [100] (tests: 8)
#   SSH2CFFI_LOAD_SCALE           divides 20,000/20,000/500 load cycles [1] (tests: 20)
#   SSH2CFFI_LIFETIME_ITERATIONS  drop-order loops [20] (tests: 2)
#   SSH2CFFI_FAULT_ROUNDS         repetitions of each fault scenario [5] (tests: 1)
#   SSH2CFFI_THREAD_ROUNDS        rounds per thread sharing one session [200] (tests: 3)
#   SSH2CFFI_FORK_CHILDREN        children forked per fork scenario [20] (tests: 3)
#   SSH2CFFI_STRESS_VARIANTS      virtualenvs to use ["cpython-1.11 pypy-1.11"]
#   SSH2CFFI_STRESS_VALGRIND      0 skips the valgrind run [1]
set -uo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
read -r -a VARIANTS <<< "${SSH2CFFI_STRESS_VARIANTS:-cpython-1.11 pypy-1.11}"
"$REPO/scripts/setup.sh" "${VARIANTS[@]}" || exit 1

export SSH2CFFI_FUZZ_EXAMPLES="${SSH2CFFI_FUZZ_EXAMPLES:-100}"
export SSH2CFFI_LOAD_SCALE="${SSH2CFFI_LOAD_SCALE:-1}"
export SSH2CFFI_LIFETIME_ITERATIONS="${SSH2CFFI_LIFETIME_ITERATIONS:-20}"
export SSH2CFFI_FAULT_ROUNDS="${SSH2CFFI_FAULT_ROUNDS:-5}"
export SSH2CFFI_THREAD_ROUNDS="${SSH2CFFI_THREAD_ROUNDS:-200}"
export SSH2CFFI_FORK_CHILDREN="${SSH2CFFI_FORK_CHILDREN:-20}"
TESTS=(tests/test_fuzz.py tests/test_faults.py tests/test_load.py tests/test_lifetime.py
       tests/test_threads.py tests/test_shared_session.py tests/test_fork.py
       tests/test_security.py)

failed=()
for variant in "${VARIANTS[@]}"; do
    printf '\n===== stress: %s =====\n' "$variant"
    # -s: the tests print their figures (calls tried, RSS per loop, bytes verified)
    (cd "$REPO" && SSH2CFFI_EXPECT_LIBSSH2="${variant#*-}" \
        "$REPO/.venv/$variant/bin/python" -m pytest -p no:cacheprovider -q -s -rA \
        "${TESTS[@]}" "$@") || failed+=("$variant")
done

if [ "${SSH2CFFI_STRESS_VALGRIND:-1}" != 0 ]; then
    printf '\n===== stress: valgrind (cpython-1.11) =====\n'
    "$REPO/scripts/valgrind.sh" || failed+=(valgrind)
fi

printf '\n'
if [ ${#failed[@]} -gt 0 ]; then
    echo "STRESS FAILED on: ${failed[*]}"
    exit 1
fi
echo "stress passed: ${VARIANTS[*]}"
