#!/usr/bin/env bash
# Set up ssh2cffi (CPython, Debian's libssh2) and run the demo: it starts its
# own OpenSSH server on loopback, connects with ssh2cffi and runs a command.
set -euo pipefail
REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
"$REPO/scripts/setup.sh" cpython-1.10
exec "$REPO/.venv/cpython-1.10/bin/python" "$REPO/examples/demo.py" "$@"
