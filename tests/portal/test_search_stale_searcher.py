"""A search whose (cached) searcher went stale because another process committed and merged
segments away is retried on the new state, whatever error Whoosh raises for the missing files
(an OSError, or a TypeError when a column file is gone); an error on the current state is raised.

Seen in tests/scale/test_search_processes.py under load: a 500 from `reader[docnum]` on None."""
from __future__ import annotations

import pytest
from flask import Flask

from portal.search import SearchIndex, facet_field, text_field


def _index():
    return SearchIndex("stale", {"content": text_field(stored=True), "featured": facet_field()}, {"content": 1.0})


@pytest.fixture
def app(tmp_path):
    app = Flask(__name__)
    app.config["INDEX_FOLDER"] = str(tmp_path / "index")
    return app


def _doc(n):
    return {"id": str(n), "content": f"宅基地边界纠纷第{n}号", "featured": "0"}


def test_an_error_on_a_stale_searcher_is_retried_on_the_new_state(app, monkeypatch):
    ours, other_process = _index(), _index()  # two objects on one folder, like two processes
    with app.app_context():
        ours.upsert([_doc(1)])
        assert [h.id for h in ours.search("宅基地").hits] == ["1"]  # caches this thread's searcher
        calls = []
        original = SearchIndex._search_in

        def fails_while_stale(self, s, *args):
            if not calls:
                # another process commits between our up-to-date check and our reads
                other_process.upsert([_doc(2)])
            calls.append(s.up_to_date())
            if not s.up_to_date():
                raise TypeError("'NoneType' object is not subscriptable")  # what Whoosh raised
            return original(self, s, *args)

        monkeypatch.setattr(SearchIndex, "_search_in", fails_while_stale)
        result = ours.search("宅基地")
        assert sorted(h.id for h in result.hits) == ["1", "2"]
        assert calls == [False, True]


def test_an_error_on_the_current_state_is_not_hidden(app, monkeypatch):
    ours = _index()
    with app.app_context():
        ours.upsert([_doc(1)])

        def broken(self, s, *args):
            raise TypeError("a real bug")

        monkeypatch.setattr(SearchIndex, "_search_in", broken)
        with pytest.raises(TypeError, match="a real bug"):
            ours.search("宅基地")
