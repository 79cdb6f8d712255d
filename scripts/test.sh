#!/usr/bin/env bash
# Runs every test: sets up the machine, builds with warnings as errors, runs the suite; then
# builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs the suite there; then
# with ThreadSanitizer and runs the concurrency tests. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== build (RelWithDebInfo, -Werror)"
bash scripts/build.sh build
echo "== format check"
bash scripts/check_format.sh
echo "== tests"
ctest --test-dir build --output-on-failure -j 2

echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer"
bash scripts/build.sh build-asan -DNEARSTORE_SANITIZE="address;undefined" -DNEARSTORE_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j 2

echo "== concurrency tests under ThreadSanitizer"
bash scripts/build.sh build-tsan -DNEARSTORE_SANITIZE=thread -DNEARSTORE_BUILD_BENCH=OFF
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure -L concurrency
