#!/usr/bin/env bash
# Create .venv, install the Python and npm dependencies, copy front-end files into static/vendor.
# Idempotent: re-running only installs what changed. WITH_BROWSER=1 also installs Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: installing Debian's nodejs and npm" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent
mkdir -p static/vendor
cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
cp node_modules/echarts/dist/echarts.min.js static/vendor/

if [ "${WITH_BROWSER:-0}" = "1" ] && [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# A TrueType CJK font for PDF documents (portal/pdf.py falls back to a built-in CID font without
# it) and for Chinese text in browser screenshots. Best effort: not fatal where apt is unavailable.
if [ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null) \
    || echo "fonts-wqy-zenhei not installed; PDFs use the built-in CID font" >&2
fi
