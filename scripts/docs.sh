#!/usr/bin/env bash
# Build the HTML documentation into docs/_build/html (Sphinx, warnings are errors).
set -euo pipefail
REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
"$REPO/scripts/setup.sh" cpython-1.10
venv="$REPO/.venv/cpython-1.10"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "sphinx>=7,<9"
"$venv/bin/python" -m sphinx -W -q -b html "$REPO/docs" "$REPO/docs/_build/html"
echo "docs built: $REPO/docs/_build/html/index.html"
