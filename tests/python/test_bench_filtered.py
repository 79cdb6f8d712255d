"""The filtered-search benchmark harness (bench/filtered) works end to end on the small smoke
dataset: every case is measured for each engine, the ground truth is the exact filtered top k,
and nearstore reaches recall 0.95 in every case. Not a timed test: it never checks speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

FILTERED = Path(__file__).resolve().parents[2] / "bench" / "filtered"
sys.path.insert(0, str(FILTERED))
sys.path.insert(0, str(FILTERED.parent / "ann"))

import filtered_data  # noqa: E402


def test_ground_truth_is_the_exact_filtered_top_k(tmp_path):
    rng = np.random.default_rng(3)
    base = rng.normal(size=(800, 8)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = base[:6] + 0.01
    meta = filtered_data.metadata(len(base))
    for case in filtered_data.CASES:
        ids, dist = filtered_data.ground_truth(base, queries, meta, case, 10, tmp_path)
        for i, q in enumerate(queries):
            spec = filtered_data.filter_for(case, i)
            rows = np.arange(len(base)) if spec is None else np.flatnonzero(spec.mask(meta))
            d = 1.0 - base[rows] @ q
            want = rows[np.lexsort((rows, d))][:10]
            got = ids[i][ids[i] >= 0]
            assert len(got) == min(10, len(rows)), case
            np.testing.assert_allclose(np.sort(1.0 - base[got] @ q), np.sort(d)[: len(got)],
                                       rtol=1e-5, atol=1e-6)
            assert set(got) <= set(rows.tolist()) and len(set(got) ^ set(want)) <= 2, case


def test_smoke_run_measures_every_case(tmp_path):
    engines = ["nearstore-hnsw-sq8", "nearstore-hnsw", "hnswlib", "faiss-hnsw"]
    out = tmp_path / "results"
    subprocess.run(
        [sys.executable, str(FILTERED / "run.py"), "--dataset", "smoke", "--cache",
         str(tmp_path / "data"), "--engines", ",".join(engines), "--queries", "50",
         "--seconds", "0.2", "--out", str(out)],
        check=True, timeout=600,
    )
    for name in engines:
        result = json.loads((out / f"{name}.json").read_text())
        assert set(result["cases"]) == set(filtered_data.CASES), name
        for case, figures in result["cases"].items():
            best = max(p["recall"] for p in figures["points"])
            assert all(p["qps"] > 0 for p in figures["points"]), (name, case)
            if name.startswith("nearstore"):
                assert best >= 0.95, (name, case, best)
    assert "## 10% keyword" in (out / "report.md").read_text()
