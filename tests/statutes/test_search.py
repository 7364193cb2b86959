"""Article search through portal.search: expected top hits, filters, and hostile queries."""
import pytest

from portal.statutes.operations import search_articles


def top(query, n=3, **kw):
    _, items = search_articles(query, **kw)
    return [(it["law"].short_name, it["article"].number) for it in items[:n]]


@pytest.mark.parametrize("query,expected", [
    ("司法确认 三十日", ("人民调解法", 33)),
    ("调解协议 法律约束力", ("人民调解法", 31)),
    ("离婚 冷静期 三十日 撤回", ("民法典", 1077)),
    ("人民调解 不收取任何费用", ("人民调解法", 4)),
    ("医疗纠纷人民调解委员会 30个工作日", ("医疗纠纷预防和处理条例", 38)),
    ("明确拒绝调解", ("人民调解法", 17)),
])
def test_expected_top_hits(app, query, expected):
    assert expected in top(query)


def test_results_have_highlighted_snippets(app):
    _, items = search_articles("司法确认 三十日")
    hit = next(it for it in items if it["law"].short_name == "人民调解法")
    assert hit["article"].label == "第三十三条"
    assert "<mark>" in hit["snippet"] and "<script" not in hit["snippet"]


def test_filters_by_law_and_category(app, laws):
    _, items = search_articles("调解协议", law_id=laws["民事诉讼法"].id)
    assert items and {it["law"].short_name for it in items} == {"民事诉讼法"}
    result, items = search_articles("调解", category="行政法规")
    assert items and {it["law"].category for it in items} == {"行政法规"}
    assert dict(result.facets["category"]) == {"行政法规": result.total}


@pytest.mark.parametrize("query", ['title:*', '"(', "AND OR NOT", "law_id:1", "调解" * 5000, "<script>", "*?~^"])
def test_hostile_queries_do_not_fail(app, query):
    search_articles(query)
