#!/usr/bin/env bash
# The whole test suite in six variants (see scripts/setup.sh):
#   Debian 12: CPython 3.11 and PyPy 3.9, each on libssh2 1.10.0 and 1.11.1;
#   Debian 13 (a root made by scripts/debian13.sh): CPython 3.13 and PyPy 3.11
#   on Debian 13's libssh2 1.11.1 and OpenSSH 10.
# Sets everything up first (scripts/setup.sh); extra arguments go to pytest.
# SSH2CFFI_VARIANTS="cpython-1.10 pypy3.11-1.11" runs only those variants.
set -uo pipefail

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=scripts/variants.sh
source "$REPO/scripts/variants.sh"
read -r -a VARIANTS <<<"${SSH2CFFI_VARIANTS:-${ALL_VARIANTS[*]}}"

"$REPO/scripts/setup.sh" "${VARIANTS[@]}" || exit 1

failed=()
for variant in "${VARIANTS[@]}"; do
    printf '\n===== %s =====\n' "$variant"
    run=()
    if is_debian13_variant "$variant"; then run=("$REPO/scripts/debian13.sh"); fi
    (cd "$REPO" && "${run[@]}" env SSH2CFFI_TEST_VARIANT="$variant" \
        SSH2CFFI_EXPECT_LIBSSH2="${variant##*-}" \
        "$REPO/.venv/$variant/bin/python" -m pytest -p no:cacheprovider "$@") || failed+=("$variant")
done

printf '\n'
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED on: ${failed[*]}"
    exit 1
fi
echo "all variants passed: ${VARIANTS[*]}"
