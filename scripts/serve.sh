#!/usr/bin/env bash
# Production server for one app process: gunicorn with one worker and many threads, which is what
# Flask-SocketIO's threading mode needs (WebSocket through simple-websocket). For several
# processes, start one per port with SOCKETIO_MESSAGE_QUEUE=redis://... and DATABASE_URL=postgresql+psycopg://...
# behind a proxy with sticky sessions (README "部署 / Deploy at scale").
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi.py
if [ "${MIGRATE:-1}" = "1" ]; then .venv/bin/flask db upgrade heads; fi
exec .venv/bin/gunicorn --worker-class gthread --workers 1 --threads "${THREADS:-100}" \
  --bind "${BIND:-127.0.0.1:8000}" --timeout 120 --graceful-timeout 20 --access-logfile - wsgi:app
