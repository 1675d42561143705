#!/usr/bin/env bash
# The whole test suite on CPython and PyPy, against libssh2 1.10.0 and 1.11.1.
# Sets everything up first (scripts/setup.sh); extra arguments go to pytest.
set -uo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
VARIANTS=(cpython-1.10 cpython-1.11 pypy-1.10 pypy-1.11)

"$REPO/scripts/setup.sh" "${VARIANTS[@]}" || exit 1

failed=()
for variant in "${VARIANTS[@]}"; do
    printf '\n===== %s =====\n' "$variant"
    (cd "$REPO" && SSH2CFFI_EXPECT_LIBSSH2="${variant#*-}" \
        "$REPO/.venv/$variant/bin/python" -m pytest -p no:cacheprovider "$@") || failed+=("$variant")
done

printf '\n'
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED on: ${failed[*]}"
    exit 1
fi
echo "all variants passed: ${VARIANTS[*]}"
