#!/usr/bin/env bash
# The main job: sets up the machine, builds nearstore, and runs the quick-start example on an
# on-disk database in ./demo-db (created, loaded, searched, closed, reopened, searched again).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build >/dev/null
./build/examples/quickstart "${1:-demo-db}"
./build/src/cli/nearstore info "${1:-demo-db}"
