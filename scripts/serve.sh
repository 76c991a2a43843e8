#!/usr/bin/env bash
# Installs whatever is missing, then builds the page and serves it at
# http://127.0.0.1:8080/ (rebuilding on change; reload by hand). Ctrl-C
# stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# No live reload: Trunk would add an inline script to the served page,
# which the page's Content-Security-Policy (scripts/csp.py) refuses. The
# bundle is still rebuilt on change; reload the page by hand.
exec trunk serve --release --no-autoreload "$@"
