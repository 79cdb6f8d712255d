"""python/nearstore/_core.pyi, the stub of the compiled core that mypy (scripts/lint_python.sh)
and editors read, is still what nanobind's stubgen makes of the built module: a binding change
that is not carried into the stub fails here. Compared as syntax trees without docstrings, so
that stubgen's layout alone does not matter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

STUB = Path(__file__).resolve().parents[2] / "python" / "nearstore" / "_core.pyi"
REMAKE = "python -m nanobind.stubgen -m nearstore._core -P -o python/nearstore/_core.pyi"


def _shape(text: str) -> str:
    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Expr(ast.Constant(...))]
    return ast.dump(tree)


def test_core_stub_is_what_stubgen_makes_of_the_module(tmp_path):
    made = tmp_path / "_core.pyi"
    subprocess.run([sys.executable, "-m", "nanobind.stubgen", "-m", "nearstore._core", "-P",
                    "-q", "-o", str(made)], check=True)
    assert _shape(made.read_text()) == _shape(STUB.read_text()), f"stale stub; remake: {REMAKE}"
