#!/usr/bin/env bash
# The whole test suite, browser tests included (installs what it needs first): once on SQLite,
# then again on PostgreSQL (127.0.0.1:5432, database "test") when that server is reachable.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/portal -k login
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BROWSER=1 bash scripts/setup.sh
status=0
echo "== tests on SQLite"
.venv/bin/python -m pytest "$@" || status=$?
if .venv/bin/python -c "import psycopg,sys; psycopg.connect('postgresql://postgres@127.0.0.1:5432/test', connect_timeout=3).close()" 2>/dev/null; then
  echo "== tests on PostgreSQL"
  .venv/bin/python -m pytest --db=postgres -m "not browser" "$@" || status=$?
else
  echo "== PostgreSQL at 127.0.0.1:5432 is not reachable: the PostgreSQL pass was skipped"
fi
exit $status
