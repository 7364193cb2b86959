#!/usr/bin/env bash
# The whole test suite, browser tests included (installs what it needs first).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/portal -k login
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BROWSER=1 bash scripts/setup.sh
.venv/bin/python -m pytest "$@"
