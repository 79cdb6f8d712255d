"""The Qdrant ecosystem's own vector stores, unchanged, against `nearstore serve`'s Qdrant face:
langchain-qdrant's QdrantVectorStore and llama-index's QdrantVectorStore (both from PyPI, in
python/requirements-test.txt). They name the unnamed vector "" ({"vectors": {"": {...}}} at
creation, {"vector": {"": [...]}} on upsert), send `using`, `sparse_vectors`, server-side MMR
and has_id filters. Each step is checked against numpy brute force over the same embeddings:
create, add, search with and without a filter, MMR, get by ids, delete, and a retriever.

Embeddings are deterministic and local (langchain_core's DeterministicFakeEmbedding, and a hash
embedding for llama-index): no network, no model."""

from __future__ import annotations

import hashlib
import uuid
import warnings
from contextlib import closing

import numpy as np
import pytest
from server_process import ServerProcess

pytest.importorskip("langchain_qdrant")  # python/requirements-test.txt
pytest.importorskip("llama_index.vector_stores.qdrant")
from qdrant_client import QdrantClient, models  # noqa: E402

KEY = "qdrant-stores-key-0123456789"
DIM = 16
WORDS = ["river", "stone", "cloud", "lamp", "fox", "harbour", "violin", "pepper", "glacier",
         "comet", "lantern", "meadow", "anchor", "thistle", "ember", "quartz"]
TEXTS = [f"{a} {b}" for a in WORDS[:8] for b in WORDS[8:]][:48]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(tmp_path_factory.mktemp("stores") / "db", "--no-access-log",
                         "--api-key", KEY)
    yield proc
    assert proc.stop() == 0, proc.log()


def client(url: str) -> QdrantClient:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return QdrantClient(url=url, api_key=KEY, timeout=30, https=False,
                            check_compatibility=False)  # tested in test_qdrant_client.py


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def nearest(vectors: np.ndarray, query: np.ndarray, k: int, mask=None) -> list[int]:
    """Positions of the k most cosine-similar rows (among those `mask` keeps)."""
    sims = unit(vectors) @ unit(query)
    if mask is not None:
        sims = np.where(mask, sims, -np.inf)
    order = [int(i) for i in np.argsort(-sims, kind="stable") if np.isfinite(sims[i])]
    return order[:k]


def reference_mmr(vectors: np.ndarray, query: np.ndarray, candidates: list[int], lam: float,
                  k: int) -> list[int]:
    """Qdrant's MMR over `candidates` (cosine): the most relevant first, then the best
    lam * relevance - (1 - lam) * max similarity to those picked."""
    rel = unit(vectors[candidates]) @ unit(query)
    sim = unit(vectors[candidates]) @ unit(vectors[candidates]).T
    picked = [int(np.argmax(rel))]
    while len(picked) < min(k, len(candidates)):
        rest = [i for i in range(len(candidates)) if i not in picked]
        scores = [lam * rel[i] - (1 - lam) * max(sim[i][j] for j in picked) for i in rest]
        picked.append(rest[int(np.argmax(scores))])
    return [candidates[i] for i in picked]


def test_langchain_qdrant_vector_store(server: ServerProcess) -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_qdrant import QdrantVectorStore

    emb = DeterministicFakeEmbedding(size=DIM)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(len(TEXTS))]
    metas = [{"group": i % 3, "n": i} for i in range(len(TEXTS))]
    vectors = np.array(emb.embed_documents(TEXTS), dtype=np.float32)
    options = {"url": server.url, "api_key": KEY, "https": False, "timeout": 30}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = QdrantVectorStore.from_texts(TEXTS[:30], emb, metadatas=metas[:30], ids=ids[:30],
                                             collection_name="lc", force_recreate=True,
                                             **options)
        assert store.add_texts(TEXTS[30:], metadatas=metas[30:], ids=ids[30:]) == ids[30:]
        # Opening it again validates its config: the unnamed vector, size and distance.
        store = QdrantVectorStore.from_existing_collection("lc", embedding=emb, **options)

    def positions(docs) -> list[int]:
        return [ids.index(str(uuid.UUID(d.metadata["_id"]))) for d in docs]

    for query in ["a fox on a glacier", "violin or comet", "lamp and ember"]:
        q = np.array(emb.embed_query(query))
        with_scores = store.similarity_search_with_score(query, k=5)
        assert positions(d for d, _ in with_scores) == nearest(vectors, q, 5)
        np.testing.assert_allclose([s for _, s in with_scores],
                                   unit(vectors[nearest(vectors, q, 5)]) @ unit(q), rtol=1e-4)
        top = nearest(vectors, q, 1)[0]
        assert with_scores[0][0].page_content == TEXTS[top]
        assert {k: with_scores[0][0].metadata[k] for k in ("group", "n")} == metas[top]

        group = models.Filter(must=[models.FieldCondition(key="metadata.group",
                                                          match=models.MatchValue(value=1))])
        mask = np.array([m["group"] == 1 for m in metas])
        assert positions(store.similarity_search(query, k=4, filter=group)) == \
            nearest(vectors, q, 4, mask)

        # Server-side MMR ({"nearest": ..., "mmr": {"diversity", "candidates_limit"}}): langchain
        # sends its lambda_mult as Qdrant's diversity.
        for lambda_mult in (0.2, 0.5, 0.9):
            got = store.max_marginal_relevance_search(query, k=4, fetch_k=12,
                                                      lambda_mult=lambda_mult)
            want = reference_mmr(vectors, q, nearest(vectors, q, 12), 1 - lambda_mult, 4)
            assert positions(got) == want, (query, lambda_mult)

        retrieved = store.as_retriever(search_kwargs={"k": 3}).invoke(query)
        assert positions(retrieved) == nearest(vectors, q, 3)

    got = store.get_by_ids([ids[3], ids[40]])
    assert sorted(d.page_content for d in got) == sorted([TEXTS[3], TEXTS[40]])
    assert store.delete([ids[3], ids[40]])
    assert store.get_by_ids([ids[3], ids[40]]) == []
    keep = np.array([i not in (3, 40) for i in range(len(TEXTS))])
    q = np.array(emb.embed_query(TEXTS[3]))
    assert positions(store.similarity_search(TEXTS[3], k=6)) == nearest(vectors, q, 6, keep)
    with closing(client(server.url)) as c:
        assert c.count("lc").count == len(TEXTS) - 2
        assert c.delete_collection("lc")


def test_llama_index_qdrant_vector_store(server: ServerProcess) -> None:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.types import (
        MetadataFilter,
        MetadataFilters,
        VectorStoreQuery,
    )
    from llama_index.vector_stores.qdrant import QdrantVectorStore

    def embed(text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(DIM).tolist()

    class HashEmbedding(BaseEmbedding):
        """A deterministic local embedding: a normal vector seeded by the text's hash."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return embed(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embed(text)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return embed(query)

    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, t)) for t in TEXTS]
    vectors = np.array([embed(t) for t in TEXTS], dtype=np.float32)
    nodes = [TextNode(text=t, id_=ids[i], embedding=vectors[i].tolist(),
                      metadata={"group": i % 3},
                      relationships={NodeRelationship.SOURCE:
                                     RelatedNodeInfo(node_id=f"doc-{i % 4}")})
             for i, t in enumerate(TEXTS)]

    with closing(client(server.url)) as c:
        store = QdrantVectorStore(collection_name="li", client=c)
        assert store.add(nodes[:30]) == ids[:30]  # creates the collection, then upserts
        assert store.add(nodes[30:]) == ids[30:]
        assert c.count("li").count == len(TEXTS)

        def result_positions(result) -> list[int]:
            return [ids.index(i) for i in result.ids]

        for query in ["a fox on a glacier", "violin or comet"]:
            q = np.array(embed(query))
            res = store.query(VectorStoreQuery(query_embedding=q.tolist(), similarity_top_k=5))
            assert result_positions(res) == nearest(vectors, q, 5)
            np.testing.assert_allclose(res.similarities,
                                       unit(vectors[nearest(vectors, q, 5)]) @ unit(q),
                                       rtol=1e-4)
            assert res.nodes[0].get_content() == TEXTS[nearest(vectors, q, 1)[0]]
            filtered = store.query(VectorStoreQuery(
                query_embedding=q.tolist(), similarity_top_k=4,
                filters=MetadataFilters(filters=[MetadataFilter(key="group", value=2)])))
            mask = np.array([i % 3 == 2 for i in range(len(TEXTS))])
            assert result_positions(filtered) == nearest(vectors, q, 4, mask)

            index = VectorStoreIndex.from_vector_store(store, embed_model=HashEmbedding())
            retrieved = index.as_retriever(similarity_top_k=3).retrieve(query)
            assert [ids.index(n.node.node_id) for n in retrieved] == nearest(vectors, q, 3)

        got = store.get_nodes(node_ids=[ids[5], ids[17]])
        assert sorted(n.get_content() for n in got) == sorted([TEXTS[5], TEXTS[17]])
        store.delete_nodes([ids[5]])
        assert [n.node_id for n in store.get_nodes(node_ids=[ids[5], ids[17]])] == [ids[17]]
        store.delete(ref_doc_id="doc-1")  # every node whose source is doc-1
        left = [i for i in range(len(TEXTS)) if i != 5 and i % 4 != 1]
        assert c.count("li").count == len(left)
        q = np.array(embed("lamp ember"))
        keep = np.array([i in left for i in range(len(TEXTS))])
        res = store.query(VectorStoreQuery(query_embedding=q.tolist(), similarity_top_k=6))
        assert result_positions(res) == nearest(vectors, q, 6, keep)
        store.clear()
        assert not c.collection_exists("li")
