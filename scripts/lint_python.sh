#!/usr/bin/env bash
# Lints the Python code: ruff (the rules of pyproject.toml's [tool.ruff]) over python/,
# tests/python, bench/ and examples/, and mypy --strict (pyproject.toml's [tool.mypy]) over the
# nearstore package, its compiled core read from the stub python/nearstore/_core.pyi. First
# installs the pinned ruff and mypy of python/requirements-test.txt, and the package's own
# dependencies (numpy, httptools: python/requirements.txt), whose types mypy reads (a fresh
# .venv has none of them yet when this runs). Needs no build. Safe to run any number of times;
# exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

mapfile -t wanted < <(grep -hE '^(ruff|mypy|numpy|httptools)([=<>!~ ]|$)' python/requirements*.txt |
                      sed 's/ *#.*//')
"$PY" -m pip install --quiet "${wanted[@]}"

echo "== Python lint: $("$PY" -m ruff --version), $("$PY" -m mypy --version) --strict"
"$PY" -m ruff check python tests/python bench examples
"$PY" -m mypy
