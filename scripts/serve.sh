#!/usr/bin/env bash
# Installs whatever is missing, then builds the page and serves it at
# http://127.0.0.1:8080/ (rebuilding on change). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
exec trunk serve --release "$@"
