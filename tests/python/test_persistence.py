"""Durability of a database directory across close and reopen (same process)."""

from __future__ import annotations

import numpy as np
import pytest
from brute_force import assert_hits_match, stored_vector

import nearstore
from nearstore import BusyError, Error

METRICS = ["cosine", "l2", "dot"]


def snapshot(col):
    """Everything observable about a collection: ids, vectors, metadata, count."""
    ids = list(col.ids(page_size=7))
    got = col.get_many(ids)
    return {
        "meta": (col.name, col.dim, col.metric, len(col), col.count()),
        "ids": ids,
        "points": {i: (g[0].tolist(), g[1]) for i, g in zip(ids, got)},
    }


def fill(col, rng, n, prefix="p"):
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    x = rng.standard_normal((n, col.dim)).astype(np.float32)
    metas = [{"i": i, "tag": prefix} for i in range(n)]
    col.upsert(ids, x, metas)
    return dict(zip(ids, x)), dict(zip(ids, metas))


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "nosync"])
@pytest.mark.parametrize(
    "maintenance",
    ["none", "flush", "compact", "flush+compact"],
)
def test_close_reopen_keeps_everything(tmp_path, sync, maintenance):
    rng = np.random.default_rng(42)
    path = tmp_path / "db"
    expected = {}
    with nearstore.open(path, sync=sync) as db:
        cols = {m: db.create_collection(f"c-{m}", dim=5, metric=m) for m in METRICS}
        for m, col in cols.items():
            vecs, metas = fill(col, rng, 200)
            if "flush" in maintenance:
                col.flush()
            # changes after the flush live in the memtable / WAL
            more_v, more_m = fill(col, rng, 30, prefix="q")
            vecs.update(more_v)
            metas.update(more_m)
            col.insert("p0000", np.ones(5), {"replaced": True})
            vecs["p0000"] = np.ones(5, dtype=np.float32)
            metas["p0000"] = {"replaced": True}
            assert col.update("p0001", metadata={"updated": 1})
            metas["p0001"] = {"updated": 1}
            assert col.update("p0002", vector=np.full(5, 2.0))
            vecs["p0002"] = np.full(5, 2.0, dtype=np.float32)
            # Few enough deletes that the segment stays under the automatic compaction
            # threshold (30% dead), so "compact" below is what compacts.
            dead = [f"p{i:04d}" for i in range(10, 40)]
            assert col.delete_many(dead) == len(dead)
            for d in dead:
                del vecs[d], metas[d]
            if "compact" in maintenance:
                col.compact()
            expected[m] = (snapshot(col), vecs, metas)
        names = db.list_collections()

    with nearstore.open(path, sync=sync) as db:
        assert db.list_collections() == names == sorted(f"c-{m}" for m in METRICS)
        for m in METRICS:
            col = db.get_collection(f"c-{m}")
            snap, vecs, metas = expected[m]
            assert snapshot(col) == snap
            assert len(col) == len(vecs)
            assert set(col.ids()) == set(vecs)
            for i in ["p0000", "p0001", "p0002", "q0005"]:
                vec, meta = col.get(i)
                np.testing.assert_allclose(vec, stored_vector(vecs[i], m), rtol=1e-6)
                assert meta == metas[i]
            for d in ["p0010", "p0039"]:
                assert col.get(d) is None
            points = {i: stored_vector(v, m) for i, v in vecs.items()}
            for q in rng.standard_normal((3, 5)).astype(np.float32):
                assert_hits_match(col.search(q, k=10), points, q, m, 10, metas)
            # and the reopened collection keeps working
            col.insert("new", np.ones(5))
            assert len(col) == len(vecs) + 1


@pytest.mark.parametrize("update", ["metadata", "vector", "both"])
def test_update_of_a_flushed_point_then_compact_survives_reopen(tmp_path, update):
    path = tmp_path / "db"
    with nearstore.open(path) as db:
        col = db.create_collection("c", dim=2, metric="l2")
        col.insert("a", [1, 2])
        col.insert("b", [3, 4])
        col.flush()
        kw = {"metadata": {"u": 1}, "vector": [5, 6]}
        if update != "both":
            kw = {update: kw[update]}
        assert col.update("a", **kw)
        col.compact()
        assert list(col.ids()) == ["a", "b"]
    with nearstore.open(path) as db:
        col = db.get_collection("c")
        assert list(col.ids()) == ["a", "b"]  # ['b']: 'a' is gone
        assert col.get("a") is not None


def test_update_after_reopen_survives_the_next_reopen(tmp_path):
    """No flush() or compact() by the user: open, insert, close, open, update, close, open.
    On a real disk the points are lost every time; on a RAM disk about one time in four."""
    for trial in range(20):
        path = tmp_path / f"db{trial}"
        with nearstore.open(path) as db:
            db.create_collection("c", dim=2, metric="l2").upsert(
                ["a", "b", "c"], [[1, 2], [3, 4], [5, 6]]
            )
        with nearstore.open(path) as db:
            col = db.get_collection("c")
            assert col.update("a", metadata={"u": 1})
            assert col.update("b", vector=[7, 8])
        with nearstore.open(path) as db:
            col = db.get_collection("c")
            assert list(col.ids()) == ["a", "b", "c"], f"trial {trial}"  # ['c']
            assert col.get("a")[1] == {"u": 1}
            np.testing.assert_array_equal(col.get("b")[0], [7, 8])


def test_update_of_a_flushed_point_then_flush_and_compact_survives_reopen(tmp_path):
    """The same sequence with a flush before compact() (the workaround) keeps the point."""
    path = tmp_path / "db"
    with nearstore.open(path) as db:
        col = db.create_collection("c", dim=2, metric="l2")
        col.insert("a", [1, 2])
        col.insert("b", [3, 4])
        col.flush()
        assert col.update("a", metadata={"u": 1})
        col.flush()
        col.compact()
    with nearstore.open(path) as db:
        col = db.get_collection("c")
        assert list(col.ids()) == ["a", "b"]
        assert col.get("a")[1] == {"u": 1}


def test_reopen_many_times(tmp_path):
    path = tmp_path / "db"
    for round_ in range(6):
        with nearstore.open(path) as db:
            col = db.get_or_create_collection("docs", dim=2, metric="l2")
            assert len(col) == round_
            col.insert(f"r{round_}", [round_, 0], {"round": round_})
            if round_ % 2:
                col.flush()
            if round_ == 4:
                col.compact()
    with nearstore.open(path) as db:
        col = db.get_collection("docs")
        assert list(col.ids()) == [f"r{i}" for i in range(6)]
        assert col.get("r3")[1] == {"round": 3}
        assert [h.id for h in col.search([5, 0], k=2)] == ["r5", "r4"]


def test_flush_and_compact_do_not_change_contents(tmp_path):
    rng = np.random.default_rng(0)
    with nearstore.open(tmp_path / "db") as db:
        col = db.create_collection("docs", dim=4, metric="l2")
        fill(col, rng, 100)
        before = snapshot(col)
        col.flush()
        assert snapshot(col) == before
        assert col.info()["segments"] >= 1
        col.delete_many([f"p{i:04d}" for i in range(50)])
        after_delete = snapshot(col)
        col.compact()
        assert snapshot(col) == after_delete
        col.flush()  # flushing an empty memtable is fine
        col.compact()
        assert snapshot(col) == after_delete


def test_drop_collection_then_reopen(tmp_path):
    path = tmp_path / "db"
    with nearstore.open(path) as db:
        a = db.create_collection("a", dim=2, metric="l2")
        a.insert("x", [1, 2])
        a.flush()
        b = db.create_collection("b", dim=3)
        b.insert("y", [1, 2, 3])
        db.drop_collection("a")
        assert db.list_collections() == ["b"]
    with nearstore.open(path) as db:
        assert db.list_collections() == ["b"]
        with pytest.raises(nearstore.NotFoundError):
            db.get_collection("a")
        # the name is free, and the new collection does not see the old points
        a = db.create_collection("a", dim=4, metric="dot")
        assert len(a) == 0 and a.get("x") is None
        a.insert("z", [1, 2, 3, 4])
    with nearstore.open(path) as db:
        assert db.list_collections() == ["a", "b"]
        a = db.get_collection("a")
        assert (a.dim, a.metric, list(a.ids())) == (4, "dot", ["z"])
        assert db.get_collection("b").get("y") is not None


def test_drop_all_collections_then_reopen(tmp_path):
    path = tmp_path / "db"
    with nearstore.open(path) as db:
        for n in ["a", "b"]:
            db.create_collection(n, dim=2).insert("p", [1, 2])
        db.drop_collection("a")
        db.drop_collection("b")
    with nearstore.open(path) as db:
        assert db.list_collections() == []


def test_list_collections_persist_with_dim_and_metric(tmp_path):
    path = tmp_path / "db"
    with nearstore.open(path) as db:
        db.create_collection("z.last", dim=7, metric="dot")
        db.create_collection("a_first", dim=3, metric="l2")
        db.create_collection("m-mid", dim=384)
    with nearstore.open(path) as db:
        assert db.list_collections() == ["a_first", "m-mid", "z.last"]
        got = {
            n: (db.get_collection(n).dim, db.get_collection(n).metric)
            for n in db.list_collections()
        }
        assert got == {"a_first": (3, "l2"), "m-mid": (384, "cosine"), "z.last": (7, "dot")}


def test_empty_collection_persists(tmp_path):
    with nearstore.open(tmp_path / "db") as db:
        db.create_collection("empty", dim=2)
    with nearstore.open(tmp_path / "db") as db:
        col = db.get_collection("empty")
        assert len(col) == 0 and list(col.ids()) == [] and col.search([1, 2]) == []


def test_second_open_is_busy(tmp_path):
    path = tmp_path / "db"
    db = nearstore.open(path)
    db.create_collection("docs", dim=2).insert("a", [1, 2])
    with pytest.raises(BusyError) as ei:
        nearstore.open(path)
    e = ei.value
    assert isinstance(e, OSError) and isinstance(e, Error)
    msg = str(e)
    assert "locked" in msg and str(path) in msg, msg
    with pytest.raises(OSError):  # plain Python code catches it as an OSError
        nearstore.open(str(path), sync=False)
    # the first handle is unaffected
    assert db.get_collection("docs").get("a") is not None
    db.close()
    # once closed, the directory can be opened again
    with nearstore.open(path) as again:
        assert len(again.get_collection("docs")) == 1


def test_in_memory_databases_are_independent_and_not_locked():
    a = nearstore.open()
    b = nearstore.open()
    a.create_collection("docs", dim=2).insert("x", [1, 2])
    b.create_collection("docs", dim=2)
    assert len(b.get_collection("docs")) == 0
    a.close()
    b.close()
    with nearstore.open() as c:
        assert c.list_collections() == []  # nothing survives an in-memory close


def test_sync_false_mode(tmp_path):
    path = tmp_path / "db"
    rng = np.random.default_rng(9)
    with nearstore.open(path, sync=False) as db:
        col = db.create_collection("docs", dim=8, metric="cosine")
        for i in range(50):  # many small acknowledged writes
            col.insert(f"p{i:02d}", rng.standard_normal(8), {"i": i})
        col.upsert([f"b{i}" for i in range(500)], rng.standard_normal((500, 8)))
        col.delete("p07")
        col.update("p08", metadata={"u": True})
        snap = snapshot(col)
    # sync=False data must be readable by a sync=True open (same format), and vice versa
    with nearstore.open(path) as db:
        col = db.get_collection("docs")
        assert snapshot(col) == snap
        col.insert("late", rng.standard_normal(8))
    with nearstore.open(path, sync=False) as db:
        assert len(db.get_collection("docs")) == len(snap["ids"]) + 1


def test_open_rejects_a_file_path(tmp_path):
    f = tmp_path / "file"
    f.write_text("not a database")
    with pytest.raises(OSError) as ei:
        nearstore.open(f)
    assert isinstance(ei.value, Error)
    assert str(f) in str(ei.value)


def test_verify_calls_a_reopenable_database_intact(tmp_path):
    """Issue 17, defect 3, as reported: an id written twice and flushed; compaction keeps the
    second row only. `nearstore verify` said the MANIFEST disagreed with the segment (exit 1)."""
    import subprocess

    from server_process import nearstore_binary

    path = tmp_path / "db"
    db = nearstore.open(path)
    c = db.create_collection("c", dim=2)
    c.insert("a", [1, 2])
    c.insert("a", [2, 1])
    c.flush()
    db.close()
    run = subprocess.run(
        [nearstore_binary(), "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "-> intact" in run.stdout
    with nearstore.open(path) as db:
        got = db.get_collection("c").get("a")
        assert got is not None and got[0][0] > got[0][1]  # [2, 1], normalised


def test_verify_from_python_finds_what_the_command_finds(tmp_path):
    """nearstore.verify: the report of `nearstore verify --json`, from the engine in-process;
    intact while the database is open elsewhere, damage named by file after a flipped byte."""
    import json
    import subprocess

    from server_process import nearstore_binary

    path = tmp_path / "db"
    rng = np.random.default_rng(7)
    with nearstore.open(path) as db:
        c = db.create_collection("c", dim=8)
        fill(c, rng, 50)
        c.flush()
        fill(c, rng, 5, prefix="logged")  # in the log only
        report = nearstore.verify(path)  # the database is open meanwhile
        assert report["ok"], report
    report = nearstore.verify(str(path))
    assert report["ok"] and report["counts"]["damaged"] == 0, report
    files = {f["file"]: f for f in report["files"]}
    segments = [f for f in files if f.endswith(".nss")]
    assert segments and any(f.endswith(".log") for f in files)
    assert all(f["status"] in ("OK", "NOTE") for f in report["files"]), report

    seg = path / segments[0]
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0xFF
    seg.write_bytes(bytes(data))
    damaged = nearstore.verify(path)
    assert not damaged["ok"] and damaged["counts"]["damaged"] == 1, damaged
    assert {f["file"]: f["status"] for f in damaged["files"]}[segments[0]] == "DAMAGED"
    run = subprocess.run(
        [nearstore_binary(), "verify", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert json.loads(run.stdout) == damaged

    with pytest.raises(nearstore.InvalidArgumentError, match="not a nearstore database"):
        nearstore.verify(tmp_path)
    with pytest.raises(nearstore.InvalidTypeError):
        nearstore.verify(None)  # type: ignore[arg-type]
