"""The search contract of portal.search.SearchIndex, run against both backends on one fixed corpus.

``whoosh`` (the default: an index folder) and ``postgres`` (SEARCH_BACKEND=postgres: PostgreSQL
full-text search in the ``search_document`` table, portal/search_pg.py). The postgres parameter
runs on the test database with ``--db=postgres``; otherwise on a fresh schema of the PostgreSQL at
TEST_DATABASE_URL when it is reachable, and is skipped (with the reason) when it is not.
"""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.search import SearchIndex, facet_field, text_field
from tests.conftest import PG_BASE

INDEX = SearchIndex(
    "contract_test",
    {
        "title": text_field(boost=1.0),
        "body": text_field(),
        "category": facet_field(),
        "region": facet_field(),
        "answered": facet_field(),
    },
    search_fields={"title": 3.0, "body": 1.0},
)
OTHER = SearchIndex("contract_other", {"title": text_field(), "category": facet_field()}, {"title": 1.0})

# id, title, body, category, region, answered
CORPUS = [
    ("1", "宅基地边界纠纷", "张某与李某因宅基地界址发生争执，张某翻建院墙越界。", "邻里纠纷", "220102", "20240301"),
    ("2", "翻建房屋堵塞通道", "王某翻建房屋堵塞通道，双方就宅基地以外的通道使用发生争执。", "邻里纠纷", "220103", "20240405"),
    ("3", "老板拖欠工资不给", "在饭店干了半年，老板拖欠四个月工资，一直不给。", "劳动争议", "220102", "20230110"),
    ("4", "电动车被汽车撞了怎么赔偿", "骑电动车被小轿车撞伤住院，医药费和误工费怎么赔？", "道路交通", "220104", "20250101"),
    ("5", "朋友借钱不还", "朋友借了三万元，没打借条，只有微信转账记录。", "借贷纠纷", "220103", "20220615"),
    ("6", "楼上邻居漏水", "楼上卫生间漏水，我家吊顶坏了，邻居不肯赔偿。", "邻里纠纷", "220104", "20250202"),
    ("7", "离婚后孩子抚养权", "协议离婚，孩子五岁，双方都想要抚养权。", "婚姻家庭", "220102", "20210909"),
    ("8", "物业费可以拒交吗", "小区物业服务很差，电梯经常坏，要求物业赔偿损失。", "物业纠纷", "220103", "20240101"),
]


def docs():
    return [dict(zip(("id", "title", "body", "category", "region", "answered"), row)) for row in CORPUS]


def _pg_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_BASE, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.SQLAlchemyError:
        return False


def _app(url, tmp_path, backend):
    return create_app({
        "TESTING": True, "SECRET_KEY": "t", "FIELD_ENCRYPTION_KEY": "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E=",
        "SQLALCHEMY_DATABASE_URI": url, "INDEX_FOLDER": str(tmp_path / "index"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"), "SEARCH_BACKEND": backend,
    })


@pytest.fixture(params=["whoosh", "postgres"])
def backend(request, tmp_path):
    """An app context whose SearchIndexes use the given backend, with the corpus indexed."""
    name = request.param
    if name == "postgres" and request.config.getoption("--db") != "postgres":
        if not _pg_reachable():
            message = f"PostgreSQL not reachable at {PG_BASE} (run with --db=postgres where it is)"
            if os.environ.get("CI"):  # .ci/run starts PostgreSQL: there the backend must be tested
                pytest.fail(message)
            pytest.skip(message)  # a laptop without PostgreSQL still runs the Whoosh half
        schema = f"t_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(PG_BASE)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        app = _app(f"{PG_BASE}?options=-csearch_path%3D{schema}", tmp_path, name)
        try:
            with app.app_context():
                db.create_all()
                assert INDEX.rebuild(docs()) == len(CORPUS)
                yield name
                db.session.remove()
                db.engine.dispose()
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()
        return
    app = request.getfixturevalue("app")  # the selected database (SQLite, or PostgreSQL with --db)
    app.config["SEARCH_BACKEND"] = name
    if name == "postgres":
        assert db.engine.dialect.name == "postgresql"
    assert INDEX.rebuild(docs()) == len(CORPUS)
    yield name


def ids(result):
    return [h.id for h in result.hits]


def test_the_backend_under_test_is_the_one_used(backend):
    uses_pg = INDEX._pg_backend() is not None
    assert uses_pg == (backend == "postgres")
    if uses_pg:
        n = db.session.execute(sa.text("SELECT count(*) FROM search_document WHERE index_name = 'contract_test'"))
        assert n.scalar() == len(CORPUS)


def test_expected_top_hits(backend):
    assert ids(INDEX.search("宅基地")) == ["1", "2"]  # the title match above the body match
    assert ids(INDEX.search("拖欠工资"))[:1] == ["3"]
    assert ids(INDEX.search("漏水 赔偿")) == ["6"]  # every word required
    assert ids(INDEX.search("借钱"))[:1] == ["5"]
    assert ids(INDEX.search("抚养权 离婚")) == ["7"]
    assert INDEX.count() == len(CORPUS)


def test_any_word_ranks_documents_with_more_words_first(backend):
    r = INDEX.search("漏水 赔偿", require_all=False)
    assert ids(r)[0] == "6" and set(ids(r)) == {"4", "6", "8"} and r.total == 3
    # Every word required and none has all of them: retried with any word, unless told not to.
    r = INDEX.search("电动车 骨折")
    assert ids(r) == ["4"] and r.total == 1
    assert INDEX.search("电动车 骨折", fallback_any=False).total == 0


def test_exact_total_pages_and_facet_counts(backend):
    r = INDEX.search("", facets=["category", "region"], pagelen=3)
    assert r.total == 8 and r.pages == 3 and len(r.hits) == 3
    assert dict(r.facets["category"]) == {"邻里纠纷": 3, "劳动争议": 1, "道路交通": 1, "借贷纠纷": 1,
                                          "婚姻家庭": 1, "物业纠纷": 1}
    assert r.facets["category"][0] == ("邻里纠纷", 3)  # most frequent first, then by value
    assert r.facets["region"] == [("220102", 3), ("220103", 3), ("220104", 2)]
    r = INDEX.search("宅基地", facets=["category", "region"])
    assert r.total == 2 and r.facets == {"category": [("邻里纠纷", 2)], "region": [("220102", 1), ("220103", 1)]}
    last = INDEX.search("", pagelen=3, page=3)
    assert len(last.hits) == 2 and last.page == 3
    assert INDEX.search("", pagelen=3, page=99).hits == []
    assert INDEX.search("", page="x").page == 1
    seen = [h.id for p in (1, 2, 3) for h in INDEX.search("", pagelen=3, page=p).hits]
    assert sorted(seen) == [str(i) for i in range(1, 9)]


def test_highlights_mark_the_query_words(backend):
    r = INDEX.search("宅基地 争执", highlight_fields=["title", "body"])
    top = r.hits[0]
    assert top.id == "1"
    assert "<mark>宅基地</mark>" in top.highlights["title"]
    assert "<mark>宅基地</mark>" in top.highlights["body"] and "<mark>争执</mark>" in top.highlights["body"]
    assert top.fields["title"] == "宅基地边界纠纷" and top.fields["category"] == "邻里纠纷"
    assert top.fields["id"] == "1" and top.score > 0


def test_filters_exclusions_and_sort(backend):
    assert ids(INDEX.search("宅基地", filters={"region": "220103"})) == ["2"]
    assert ids(INDEX.search("宅基地", filters={"category": "邻里纠纷", "region": "220102"})) == ["1"]
    assert INDEX.search("宅基地", filters={"category": "劳动争议"}).total == 0
    assert ids(INDEX.search("宅基地", filters={"category": ""})) == ["1", "2"]  # empty filter: ignored
    assert ids(INDEX.search("宅基地", exclude_ids=["1"])) == ["2"]
    newest = [d[0] for d in sorted(CORPUS, key=lambda d: d[5], reverse=True)]
    assert ids(INDEX.search("", sort="answered", pagelen=20)) == newest
    assert ids(INDEX.search("", sort="answered", reverse=False, pagelen=20)) == newest[::-1]
    r = INDEX.search("赔偿", sort="answered", require_all=False)
    assert ids(r) == ["6", "4", "8"]


def test_delete_and_upsert_take_effect_at_once(backend):
    INDEX.delete("1")  # unpublished
    assert ids(INDEX.search("宅基地")) == ["2"]
    assert INDEX.count() == 7
    INDEX.upsert([{"id": "2", "title": "果园承包纠纷", "body": "承包果园的合同到期后双方发生争执。",
                   "category": "土地承包", "region": "220103", "answered": "20250301"}])
    assert INDEX.search("宅基地").total == 0
    r = INDEX.search("果园", facets=["category"])
    assert ids(r) == ["2"] and r.facets["category"] == [("土地承包", 1)]
    assert INDEX.count() == 7
    INDEX.upsert([dict(zip(("id", "title", "body", "category", "region", "answered"), CORPUS[0]))])
    assert ids(INDEX.search("宅基地")) == ["1"]


def test_indexes_are_separate(backend):
    OTHER.rebuild([{"id": "1", "title": "另一个索引里的宅基地", "category": "其他"}])
    assert ids(OTHER.search("宅基地")) == ["1"] and OTHER.search("宅基地").hits[0].fields["title"].startswith("另一个")
    assert ids(INDEX.search("宅基地")) == ["1", "2"]
    assert INDEX.rebuild(docs()[:2]) == 2  # a rebuild replaces only its own index
    assert INDEX.count() == 2 and OTHER.count() == 1


HOSTILE = ["title:", "*", '"', "'", "\\", "宅基地 & | ! ( ) :* <->", "'; DROP TABLE search_document; --",
           "o'brien \\' 宅基地", "<script>alert(1)</script>", "宅" * 10_000, "x" * 10_000, "%_", "\x00宅基地",
           "body:宅基地 AND title:*"]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_never_raise(backend, query):
    r = INDEX.search(query, facets=["category"], highlight_fields=["title", "body"], sort=None)
    assert r.total >= 0 and len(r.hits) <= 10
    INDEX.search(query, require_all=False, filters={"category": query}, exclude_ids=[query])
    assert INDEX.count() == len(CORPUS)  # nothing was executed as SQL


def test_hostile_query_words_are_matched_literally(backend):
    INDEX.upsert([{"id": "9", "title": "O'Brien 与 \\ 反斜杠 & 符号", "body": "", "category": "其他",
                   "region": "220102", "answered": "20200101"}])
    assert ids(INDEX.search("o'brien")) == ["9"]
    assert ids(INDEX.search("宅基地 & | !")) == ["1", "2"]


# ---- PostgreSQL only: the index follows the database transaction ---------------------------------

@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_writes_follow_the_transaction(backend):
    db.session.commit()
    INDEX.upsert([{"id": "20", "title": "回滚的滞留文书", "body": "", "category": "其他", "region": "", "answered": ""}])
    assert ids(INDEX.search("滞留")) == ["20"]  # seen inside the transaction
    db.session.rollback()
    assert INDEX.search("滞留").total == 0 and INDEX.count() == len(CORPUS)
    INDEX.delete("3")
    db.session.rollback()
    assert ids(INDEX.search("拖欠工资"))[:1] == ["3"]
    INDEX.delete("3")
    db.session.commit()
    with db.engine.connect() as other:  # another connection (another process) sees the commit
        n = other.execute(sa.text("SELECT count(*) FROM search_document WHERE index_name = 'contract_test'"))
        assert n.scalar() == len(CORPUS) - 1


def test_postgres_setting_on_sqlite_keeps_whoosh(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path, "postgres")
    with app.app_context():
        db.create_all()
        assert INDEX._pg_backend() is None
        assert INDEX.rebuild(docs()) == len(CORPUS)
        assert ids(INDEX.search("宅基地")) == ["1", "2"]
        assert (tmp_path / "index" / "contract_test").is_dir()


def test_search_backend_setting(monkeypatch, tmp_path):
    from portal.config import load_config

    monkeypatch.delenv("SEARCH_BACKEND", raising=False)
    assert load_config(str(tmp_path))["SEARCH_BACKEND"] == "whoosh"
    monkeypatch.setenv("SEARCH_BACKEND", "Postgres")
    assert load_config(str(tmp_path))["SEARCH_BACKEND"] == "postgres"
