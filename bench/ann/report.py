"""Turns the JSON results of a suite into BENCHMARKS.md tables and recall-vs-QPS plots.

    python bench/ann/report.py RESULTS.json [--markdown FILE] [--plots DIR]

The headline figure is the single-thread QPS at a recall@10 target: the fastest sweep point of an
engine whose recall reaches the target (higher knobs are slower, so this is the knob a user would
pick). "—" means the engine never reached the target within its sweep.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

RECALL_TARGETS = (0.90, 0.95, 0.99)


def qps_at(result: dict[str, Any], target: float, key: str = "qps_1t") -> dict[str, Any] | None:
    """The fastest point whose recall reaches `target`, or None."""
    ok = [p for p in result.get("points", []) if p["recall"] >= target]
    return max(ok, key=lambda p: p[key]) if ok else None


def fmt_qps(point: dict[str, Any] | None, key: str = "qps_1t") -> str:
    if point is None:
        return "—"
    v = point[key]
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def fmt_mb(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.1f}"


def fmt_knob(point: dict[str, Any] | None) -> str:
    if point is None or not point["knob"]:
        return ""
    return ", ".join(f"{k}={v}" for k, v in point["knob"].items())


def by_dataset(results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        out.setdefault(r["dataset"], []).append(r)
    return out


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def dataset_section(name: str, results: list[dict[str, Any]]) -> str:
    ok = [r for r in results if "error" not in r]
    failed = [r for r in results if "error" in r]
    first = ok[0] if ok else {}
    out = [f"### {name}", ""]
    if first:
        nq = first.get("queries", first["points"][0]["queries"])
        box = ""
        if "rounds" in first:
            box = (
                f" (the single-thread queries are those answered in {first['query_seconds']:g} s"
                f" / {first['rounds']}, at least {first['min_queries']}; each runs"
                f" {first['rounds']} times and keeps its fastest)"
            )
        elif "query_seconds" in first:
            box = (
                f" (a single-thread pass stops after {first['query_seconds']:g} s once "
                f"{first['min_queries']} queries are done)"
            )
        out.append(
            f"{first['n']:,} vectors × {first['dim']}, {first['metric']}, k = 10, "
            f"{nq:,} queries{box}; {first['threads']} threads for the build and the all-cores "
            "column."
        )
        out.append("")
    # Engines ordered by their QPS at recall 0.95 (those that never reach it last).
    ok.sort(key=lambda r: -(qps_at(r, 0.95) or {"qps_1t": -1})["qps_1t"])
    header = [
        "engine",
        *[f"QPS @ {t:.2f}" for t in RECALL_TARGETS],
        "knob @ 0.95",
        "p50 / p99 ms @ 0.95",
        "all cores QPS @ 0.95",
        "max recall",
        "build s",
        "disk MB",
        "memory MB",
    ]
    rows = []
    for r in ok:
        at95 = qps_at(r, 0.95)
        lat = f"{at95['p50_ms']:.2f} / {at95['p99_ms']:.2f}" if at95 else "—"
        rows.append(
            [
                f"{r['engine']} {r['version']}" + ("" if r.get("one_thread", True) else " †"),
                *[fmt_qps(qps_at(r, t)) for t in RECALL_TARGETS],
                fmt_knob(at95),
                lat,
                fmt_qps(at95, "qps_all"),
                f"{max(p['recall'] for p in r['points']):.4f}",
                f"{r['build_s']:.1f}",
                fmt_mb(r["disk_bytes"] / 2**20),
                fmt_mb(r["index_mem_mb"]),
            ]
        )
    out.append(_table(header, rows))
    if any(not r.get("one_thread", True) for r in ok):
        out += [
            "",
            "† the engine's API cannot keep one query on one thread: its single-thread "
            "figures had help from its own background threads.",
        ]
    for r in failed:
        out.append("")
        out.append(f"- **{r['engine']} failed:** {r['error']}")
    return "\n".join(out)


def standing(doc: dict[str, Any]) -> str:
    """Where nearstore stands: for each dataset, each nearstore engine's single-thread QPS at
    recall 0.95 over each peer's (above 1: nearstore is faster), plus the build time and memory
    ratios. A peer that never reaches 0.95 shows "—"."""
    lines = []
    for name, results in by_dataset(doc["results"]).items():
        ok = [r for r in results if "error" not in r]
        ours = [r for r in ok if r["engine"].startswith("nearstore")]
        peers = [r for r in ok if not r["engine"].startswith("nearstore")]
        for mine in ours:
            mine95 = qps_at(mine, 0.95)
            cells = []
            for peer in sorted(peers, key=lambda r: -(qps_at(r, 0.95) or {"qps_1t": 0})["qps_1t"]):
                theirs = qps_at(peer, 0.95)
                ratio = f"{mine95['qps_1t'] / theirs['qps_1t']:.2f}×" if mine95 and theirs else "—"
                cells.append(f"{peer['engine']} {ratio}")
            lines.append(f"- **{name}**, {mine['engine']}: " + ", ".join(cells) + ".")
    if not lines:
        return ""
    return "\n".join(
        [
            "## Where nearstore stands",
            "",
            "nearstore's single-thread QPS at recall@10 ≥ 0.95 divided by each peer's, in this run "
            "(above 1: nearstore is faster; — : the peer never reached 0.95).",
            "",
            *lines,
            "",
        ]
    )


def markdown(doc: dict[str, Any]) -> str:
    env = doc["environment"]
    parts = [
        "# Benchmarks",
        "",
        "Approximate nearest-neighbour search: nearstore beside its peers, each engine in a "
        "process of its own, on the same machine and in the same run. Made by `bench/ann` "
        "(bench/README.md says how it measures).",
        "",
        f"- **Suite:** `{doc['suite']}`, run {env['date']}"
        # A resumed or report-only run reuses results of earlier runs: its own time says nothing.
        + (
            "."
            if "--resume" in doc["command"] or "--report-only" in doc["command"]
            else f", {doc['seconds'] / 60:.0f} minutes."
        ),
        f"- **Command:** `{doc['command']}`",
        f"- **Machine:** {env['cpu']}, {env['cores']} cores, {env['memory_gb']:.0f} GB, "
        f"{env['os']}; "
        f"Python {env['python']}, numpy {env['numpy']}.",
        f"- **Versions:** {', '.join(f'{k} {v}' for k, v in sorted(doc['versions'].items()))}.",
        "- **Columns:** QPS is single-threaded, one query per call, at the fastest sweep point "
        "whose recall@10 reaches the target; the all-cores column is one batch call at that "
        "point; memory is the resident "
        "memory the built index adds to the process (after the searches, mapped files included); "
        "graph indexes share M and ef_construction "
        f"({doc['graph_params']['M']} and {doc['graph_params']['ef_construction']}).",
        "",
    ]
    if doc.get("pending"):
        parts += [
            "**Not measured yet** (the run was cut off or is still going): "
            + ", ".join(doc["pending"])
            + ".",
            "",
        ]
    parts.append(standing(doc))
    parts.append("## Results per dataset\n")
    for name, results in by_dataset(doc["results"]).items():
        parts.append(dataset_section(name, results))
        plot = doc.get("plots", {}).get(name)
        if plot:
            parts += ["", f"![recall vs QPS on {name}]({plot})"]
        parts.append("")
    return "\n".join(parts)


# The recall axis is stretched near 1 (as ann-benchmarks does): x = -log10(1 - recall), so 0.9,
# 0.99 and 0.999 are evenly spaced; recall 1 is drawn at 0.9999.
_RECALL_CAP = 0.9999
RECALL_TICKS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0)


def _stretch(r: Any) -> Any:
    import numpy as np

    return -np.log10(1.0 - np.minimum(r, _RECALL_CAP))


def _unstretch(x: Any) -> Any:
    return 1.0 - 10.0 ** (-x)


def plot(name: str, results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = sorted((r for r in results if "error" not in r), key=lambda r: r["engine"])
    colours = plt.get_cmap("tab20")
    fig, axes = plt.subplots(1, 2, figsize=(14.5, 5.2))
    for ax, key, title in (
        (axes[0], "qps_1t", "one thread, one query per call"),
        (axes[1], "qps_all", "all cores, one batch"),
    ):
        for i, r in enumerate(engines):
            pts = sorted(r["points"], key=lambda p: p["recall"])
            if r["exact"]:
                style = {"marker": "s", "linestyle": "none", "markersize": 8}
            else:
                style = {"marker": "os^vD<>ph*"[i % 10], "markersize": 4}
            ax.plot(
                [p["recall"] for p in pts],
                [p[key] for p in pts],
                label=r["engine"],
                linewidth=2.8 if r["engine"].startswith("nearstore") else 1.2,
                color=colours(i % 20),
                **style,
            )
        ax.set_xscale("function", functions=(_stretch, _unstretch))
        ax.set_xticks(RECALL_TICKS, [f"{t:g}" for t in RECALL_TICKS])
        ax.set_xlim(min(0.5, *(p["recall"] for r in engines for p in r["points"])), _RECALL_CAP)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10 (stretched near 1)")
        ax.set_ylabel("queries per second")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    # One legend for both panels, outside them, so it hides no curve.
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="center right")
    fig.suptitle(name)
    fig.tight_layout(rect=(0, 0, 0.87, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(doc: dict[str, Any], markdown_path: Path, plots_dir: Path) -> None:
    """Writes the plots, then the markdown that links them (paths relative to the markdown)."""
    doc["plots"] = {}
    for name, results in by_dataset(doc["results"]).items():
        png = plots_dir / f"{name}.png"
        plot(name, results, png)
        doc["plots"][name] = os.path.relpath(png.resolve(), markdown_path.parent.resolve())
    markdown_path.write_text(markdown(doc))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", type=Path, help="results.json written by run.py")
    parser.add_argument("--markdown", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--plots", type=Path, default=Path("docs/benchmarks"))
    args = parser.parse_args()
    write(json.loads(args.results.read_text()), args.markdown, args.plots)


if __name__ == "__main__":
    main()
