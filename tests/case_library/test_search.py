"""Search on a fixed corpus of published cases: top hits, facets, highlights, order, bad input."""
import datetime as dt
import re

import pytest

from case_library.models import CaseState, ExemplaryCase
from case_library.search import cases_index, reindex_all
from portal.extensions import db
from tests.conftest import text_of

CORPUS = [
    # title, type, region key, level, year, facts
    ("一起因宅基地边界引发的邻里纠纷调解案", "房屋宅基地", "township", "county", 2021,
     "张某与李某因宅基地界址发生争执，张某翻建院墙越界。"),
    ("翻建房屋引发的相邻通行纠纷调解案", "邻里纠纷", "township", "city", 2022,
     "王某翻建房屋堵塞了通道，邻居赵某无法通行。双方就宅基地以外的通道使用发生争执。"),
    ("农民工讨要劳动报酬纠纷调解案", "劳动争议", "county", "county", 2023,
     "刘某等十二名务工人员被拖欠工资共计八万元，包工头以工程款未结清为由拒付。"),
    ("楼上漏水引发的邻里纠纷调解案", "邻里纠纷", "other_county", "city", 2023,
     "孙某家卫生间漏水，致楼下周某家吊顶脱落，双方就维修和赔偿发生争执。"),
    ("电动车与轿车相撞交通事故赔偿纠纷调解案", "道路交通", "other_county", "province", 2024,
     "吴某驾驶轿车与骑电动车的郑某相撞，郑某腿部骨折，双方就赔偿数额协商未果。"),
    ("亲友间民间借贷纠纷调解案", "借贷纠纷", "county", "province", 2024,
     "陈某向好友林某借款五万元，到期无力偿还，双方由好友变为仇人。"),
    ("多子女赡养老人纠纷调解案", "婚姻家庭", "township", "county", 2025,
     "八十岁的何某育有二子一女，子女因老宅分配不和，均拒绝支付赡养费。"),
]


@pytest.fixture
def corpus(people):
    regions = {"township": people.township, "county": people.county, "other_county": people.other_county}
    cases = []
    for i, (title, dtype, region, level, year, facts) in enumerate(CORPUS):
        c = ExemplaryCase(author_id=people.mediator.id, region_id=regions[region].id, state=CaseState.published.value,
                          title=title, dispute_type=dtype, keywords="", basic_facts=facts,
                          process="调解员分别走访双方，讲解法律规定，促成和解。", result="双方达成调解协议并已履行。",
                          commentary="依法调解，情理兼顾。", legal_basis="《中华人民共和国人民调解法》第二十二条。",
                          level=level, chain_csv="township,county,city,province",
                          published_at=dt.datetime(year, 3, 1 + i), featured=(i == 2))
        db.session.add(c)
        cases.append(c)
    db.session.commit()
    assert reindex_all() == len(CORPUS)
    return cases


def ids(result):
    return [int(h.id) for h in result.hits]


def test_expected_top_hits(corpus):
    c = corpus
    assert ids(cases_index.search("宅基地"))[:1] == [c[0].id]  # title match ranks above body match
    assert set(ids(cases_index.search("宅基地"))) == {c[0].id, c[1].id}
    assert ids(cases_index.search("拖欠工资"))[:1] == [c[2].id]
    assert ids(cases_index.search("漏水 赔偿"))[:1] == [c[3].id]
    assert ids(cases_index.search("电动车 骨折")) == [c[4].id]
    assert ids(cases_index.search("借款"))[:1] == [c[5].id]
    assert ids(cases_index.search("赡养费"))[:1] == [c[6].id]
    assert cases_index.search("外星人").total == 0


def test_more_matching_words_rank_higher_when_not_all_are_required(corpus):
    r = cases_index.search("漏水 通行 赔偿", require_all=False)
    assert r.total >= 3
    assert int(r.hits[0].id) == corpus[3].id  # 漏水 and 赔偿 both match


def test_facet_counts(corpus, people):
    r = cases_index.search("", facets=["dispute_type", "region", "level", "year"])
    assert r.total == 7
    assert dict(r.facets["dispute_type"]) == {"邻里纠纷": 2, "房屋宅基地": 1, "劳动争议": 1, "道路交通": 1,
                                              "借贷纠纷": 1, "婚姻家庭": 1}
    assert dict(r.facets["level"]) == {"county": 3, "city": 2, "province": 2}
    assert dict(r.facets["year"]) == {"2021": 1, "2022": 1, "2023": 2, "2024": 2, "2025": 1}
    assert dict(r.facets["region"]) == {people.city.code: 7}
    r = cases_index.search("纠纷", filters={"level": "city"}, facets=["dispute_type", "year"])
    assert r.total == 2
    assert dict(r.facets["dispute_type"]) == {"邻里纠纷": 2}
    assert dict(r.facets["year"]) == {"2022": 1, "2023": 1}


def test_highlights_contain_the_query_terms(corpus):
    r = cases_index.search("宅基地 界址", highlight_fields=["body", "title"], require_all=False)
    top = r.hits[0]
    assert "<mark>宅基地</mark>" in top.highlights["title"]
    assert "<mark>界址</mark>" in top.highlights["body"]


def test_highlights_escape_the_stored_text(corpus, people):
    c = corpus[0]
    c.basic_facts = "<script>alert(1)</script>宅基地纠纷"
    db.session.commit()
    reindex_all()
    body = cases_index.search("宅基地", highlight_fields=["body"]).hits[0].highlights["body"]
    assert "<script>" not in body and "&lt;script&gt;" in body


def test_date_order_and_pages(corpus):
    r = cases_index.search("", sort="published", pagelen=3)
    assert ids(r) == [corpus[6].id, corpus[5].id, corpus[4].id]
    assert r.pages == 3
    r2 = cases_index.search("", sort="published", pagelen=3, page=3)
    assert ids(r2) == [corpus[0].id]


@pytest.mark.parametrize("q", ["x" * 10000, "title:", "*", '"宅基地', "宅基地 AND OR NOT (", "[]{}~^", "\\", "%%"])
def test_bad_queries_give_a_sensible_page(client, corpus, q):
    resp = client.get("/cases/", query_string={"q": q})
    assert resp.status_code == 200
    assert "检索结果" in text_of(resp)


def test_whoosh_syntax_is_plain_text(corpus):
    assert ids(cases_index.search("title:宅基地"))[:1] == [corpus[0].id]
    assert ids(cases_index.search('"宅基地'))[:1] == [corpus[0].id]


def test_public_page_search_facets_and_related(client, corpus):
    page = text_of(client.get("/cases/", query_string={"q": "宅基地"}))
    assert "共 2 件" in page and "边界引发的邻里纠纷调解案" in page
    assert re.search(r"房屋宅基地\s*（1）", page)
    html = client.get("/cases/", query_string={"q": "宅基地"}).get_data(as_text=True)
    assert "<mark>宅基地</mark>" in html
    filtered = text_of(client.get("/cases/", query_string={"q": "纠纷", "level": "province"}))
    assert "共 2 件" in filtered
    front = text_of(client.get("/cases/"))
    assert "推荐案例" in front and "最新发布" in front and "农民工讨要劳动报酬纠纷调解案" in front
    assert text_of(client.get("/cases/", query_string={"page": "abc"}))
    case_page = text_of(client.get(f"/cases/{corpus[0].id}"))
    assert "相关案例" in case_page and "翻建房屋引发的相邻通行纠纷调解案" in case_page


def test_cli_reindex(app, corpus):
    cases_index.delete(corpus[0].id)
    assert cases_index.count() == 6
    out = app.test_cli_runner().invoke(args=["cases", "reindex"])
    assert "7 件" in out.output
    assert cases_index.count() == 7
