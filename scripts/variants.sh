# The test variants (INTERPRETER-LIBSSH2), sourced by scripts/setup.sh and
# scripts/test.sh; setup.sh's header says what each one is.
DEBIAN12_VARIANTS=(cpython-1.10 cpython-1.11 pypy-1.10 pypy-1.11)
DEBIAN13_VARIANTS=(cpython3.13-1.11 pypy3.11-1.11)   # in the root of scripts/debian13.sh
ALL_VARIANTS=("${DEBIAN12_VARIANTS[@]}" "${DEBIAN13_VARIANTS[@]}")

is_debian13_variant() { [[ " ${DEBIAN13_VARIANTS[*]} " == *" $1 "* ]]; }
