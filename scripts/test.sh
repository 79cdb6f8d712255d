#!/usr/bin/env bash
# Runs every test: sets up the machine; builds with warnings as errors and runs the C++ suite,
# then clang-tidy over src/; builds and installs the Python package and runs the pytest suite (the
# real-model test included); then builds with AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the C++ suite there, and with ThreadSanitizer for the concurrency tests. Python runs in the
# project's virtual environment .venv (scripts/venv.sh: its bin/ comes first on PATH, so python3,
# pytest and the `nearstore` command the server tests start are its own). Safe to run any number
# of times. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=scripts/venv.sh
source scripts/venv.sh

echo "== format check"
bash scripts/check_format.sh
bash scripts/lint_python.sh

echo "== C++ build (RelWithDebInfo, -Werror) and tests"
bash scripts/build.sh build
ctest --test-dir build --output-on-failure -j 2

echo "== C++ lint: clang-tidy (the checks of .clang-tidy) over src/"
bash scripts/clang_tidy.sh build

echo "== Python package and tests"
bash scripts/setup_python.sh --full
HF_HUB_OFFLINE=1 python -m pytest tests/python -q

echo "== C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
bash scripts/build.sh build-asan -DNEARSTORE_SANITIZE="address;undefined" -DNEARSTORE_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j 2

echo "== concurrency tests under ThreadSanitizer"
cmake -G Ninja -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEARSTORE_WERROR=ON \
  -DNEARSTORE_SANITIZE=thread -DNEARSTORE_BUILD_BENCH=OFF -DNEARSTORE_BUILD_EXAMPLES=OFF >/dev/null
ninja -C build-tsan -j "$(nproc)" engine_test index_test
TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/cpp/engine/engine_test --gtest_filter='*Concurrency*'
# The HNSW build inserts nodes from several threads at once.
TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/cpp/index/index_test
# The last word, in the form CI reads: everything above passed (set -e stops at a failure).
echo "== all suites passed"
