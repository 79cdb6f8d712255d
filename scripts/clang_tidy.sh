#!/usr/bin/env bash
# Runs clang-tidy with the repository's .clang-tidy (a small set of checks, each stated there;
# every finding is an error) over the src/ files of a build tree's compile_commands.json, one
# process per core. Usage: scripts/clang_tidy.sh BUILD_DIR (configured: scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/clang_tidy.sh BUILD_DIR}
db="$build/compile_commands.json"
if [ ! -f "$db" ]; then
  echo "clang_tidy: $db not found: configure $build first (scripts/build.sh $build)" >&2
  exit 2
fi
mapfile -t files < <(grep -o '"file": *"[^"]*"' "$db" | sed 's/^"file": *"//; s/"$//' |
  grep "^$PWD/src/" | sort -u)
if [ "${#files[@]}" -eq 0 ]; then
  echo "clang_tidy: no file under $PWD/src/ in $db" >&2
  exit 2
fi
echo "clang-tidy: ${#files[@]} files of $db"
# -Wthread-safety: clang's lock analysis, reported by the clang-diagnostic-thread-safety*
# checks (see .clang-tidy). -Wno-error: the build's -Werror must not turn clang's other
# warnings, which GCC does not give and the checks leave out, into errors here.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet \
  --extra-arg=-Wthread-safety --extra-arg=-Wno-error >"$log" 2>&1 || status=$?
# clang prints "N warnings generated." per file for the warnings the checks filter out.
grep -v -E '^[0-9]+ (warning|error)s? (and [0-9]+ errors? )?generated\.$' "$log" || true
if [ "$status" -ne 0 ]; then
  echo "clang-tidy: findings above (fix them, or see .clang-tidy for why each check is there)" >&2
fi
exit "$status"
