"""The Whoosh index survives rapid repeated writes of one document (regression, issue 7).

The hostile-form fuzz corrupted the case index through POST /cases/<id>/feature and /unpublish:
first an AssertionError in Whoosh's create_compound_file during commit, later "Unknown file
header" when opening. Cause: Whoosh names every new segment (and its temporary files) with the
*global* ``random`` module, and hypothesis seeds that module to the same value before every
example, so a later write produced a segment with the name of a live one and overwrote its
files. These tests hammer plain functions (no HTTP) and then reopen the index from disk.
"""
from __future__ import annotations

import random
import threading

import pytest
from flask import Flask
from whoosh import index

from portal.search import SearchIndex, facet_field, text_field


def _new_index(name="integrity"):
    return SearchIndex(name, {"content": text_field(stored=True), "featured": facet_field()}, {"content": 1.0})


@pytest.fixture
def flask_app(tmp_path):
    app = Flask(__name__)
    app.config["INDEX_FOLDER"] = str(tmp_path / "index")
    return app


def _doc(doc_id, featured, word="宅基地"):
    return {"id": str(doc_id), "content": f"一起因{word}边界引发的邻里纠纷调解案，第{doc_id}号", "featured": featured}


def _check_from_disk(app, expect_ids, word="宅基地"):
    """A fresh SearchIndex object (a fresh Whoosh open, no cached searcher) finds exactly ``expect_ids``."""
    fresh = _new_index()
    with app.app_context():
        ix = fresh._current()
        with ix.searcher() as s:  # opening every segment reads every file header
            for leaf, _ in s.reader().leaf_readers():
                for d in range(leaf.doc_count_all()):
                    if not leaf.is_deleted(d):
                        leaf.stored_fields(d)
        found = {h.id for h in fresh.search(word, pagelen=100).hits}
        assert found == {str(i) for i in expect_ids}
        assert fresh.count() == len(expect_ids)
    # And Whoosh's own reader agrees (no NumPy cache involved).
    raw = index.open_dir(str(ix.storage.folder))
    with raw.searcher() as s:
        assert {f["id"] for f in s.all_stored_fields()} == {str(i) for i in expect_ids}


def test_reseeded_global_random_does_not_reuse_segment_names(flask_app):
    """What hypothesis does before every example: random.seed(0). Writes still make new segments."""
    idx = _new_index()
    with flask_app.app_context():
        idx.upsert([_doc(1, "0"), _doc(2, "0")])
        for i in range(200):
            random.seed(0)
            if i % 3 == 2:
                idx.delete(1)
            else:
                idx.upsert([_doc(1, "1" if i % 2 else "0")])
            if i % 10 == 0:
                random.seed(0)
                assert "2" in {h.id for h in idx.search("宅基地").hits}
        idx.upsert([_doc(1, "1")])
        assert {h.id for h in idx.search("宅基地", filters={"featured": "1"}).hits} == {"1"}
    _check_from_disk(flask_app, [1, 2])


def test_same_doc_hammered_from_threads_with_searches(flask_app):
    idx = _new_index()
    errors: list = []
    with flask_app.app_context():
        idx.upsert([_doc(i, "0") for i in range(1, 6)])

    def worker(n):
        try:
            with flask_app.app_context():
                for i in range(60):
                    if (i + n) % 4 == 3:
                        idx.delete(1)
                    else:
                        idx.upsert([_doc(1, str((i + n) % 2))])  # feature / unfeature
                    if i % 5 == 0:
                        idx.upsert([_doc(2, "0")])  # a write of an unchanged document
                    hits = {h.id for h in idx.search("宅基地", pagelen=20).hits}
                    assert {"2", "3", "4", "5"} <= hits
        except Exception as e:  # noqa: BLE001  (reported below, with the other threads' errors)
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with flask_app.app_context():
        idx.upsert([_doc(1, "1")])
    _check_from_disk(flask_app, [1, 2, 3, 4, 5])


def test_two_index_objects_on_one_folder_write_in_turn(flask_app):
    """Two SearchIndex objects (two ``_ix`` handles, as two processes have) share one folder."""
    a, b = _new_index(), _new_index()
    with flask_app.app_context():
        for i in range(100):
            random.seed(0)
            (a if i % 2 else b).upsert([_doc(1, str(i % 2)), _doc(10 + i % 7, "0")])
            if i % 9 == 0:
                (b if i % 2 else a).delete(1)
            # Each object sees the other's writes at once (its searcher reopens).
            assert "10" in {h.id for h in (b if i % 2 else a).search("宅基地", pagelen=50).hits}
        a.upsert([_doc(1, "0")])
        assert {h.id for h in b.search("宅基地", pagelen=50).hits} == {"1", *(str(10 + k) for k in range(7))}
    _check_from_disk(flask_app, [1, *(10 + k for k in range(7))])

