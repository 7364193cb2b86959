#!/usr/bin/env bash
# The site with demo data on SQLite at http://127.0.0.1:5000 (prints the demo accounts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export FLASK_APP=wsgi.py
.venv/bin/flask db upgrade heads
.venv/bin/flask demo load
echo "站点地址：http://127.0.0.1:${PORT:-5000}"
exec .venv/bin/python wsgi.py
