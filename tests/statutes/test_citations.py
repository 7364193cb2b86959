"""Finding and linking citations: Chinese and Arabic numerals, full and short names, lists, ranges,
本法, unknown laws, articles beyond the last one, HTML input."""
import re

import pytest
from markupsafe import Markup

from portal.statutes.citations import CitationMap, LawRef, find_citations, link_citations


@pytest.fixture
def cmap(laws):
    return CitationMap.from_database()


def cited(text, cmap, default=None):
    """[(law short name, article number, cited text)]"""
    return [(c.law.name, c.number, text[c.start:c.end]) for c in find_citations(text, default, cmap)]


def test_full_name_in_brackets_with_chinese_numeral(cmap):
    text = "依照《中华人民共和国人民调解法》第二十九条的规定，调解协议书可以载明下列事项"
    assert cited(text, cmap) == [("人民调解法", 29, "《中华人民共和国人民调解法》第二十九条")]


def test_short_name_in_brackets(cmap):
    assert cited("《民法典》第一千零四十二条禁止包办、买卖婚姻", cmap) == [("民法典", 1042, "《民法典》第一千零四十二条")]


def test_known_name_without_brackets_and_arabic_numerals(cmap):
    assert cited("根据人民调解法第17条，当事人一方明确拒绝调解的，不得调解。", cmap) == [("人民调解法", 17, "人民调解法第17条")]
    assert cited("《民法典》第1042条", cmap) == [("民法典", 1042, "《民法典》第1042条")]
    assert cited("《 民法典 》 第 1043 条", cmap) == [("民法典", 1043, "《 民法典 》 第 1043 条")]


def test_this_law_refers_to_the_law_named_before(cmap):
    text = "《人民调解法》规定了调解协议的效力。本法第三条规定了调解的原则，该法第三十三条规定了司法确认。"
    assert cited(text, cmap) == [("人民调解法", 3, "本法第三条"), ("人民调解法", 33, "该法第三十三条")]
    assert cited("本法第三条", cmap) == []  # no law named before: plain text


def test_lists_and_ranges(cmap):
    assert cited("《人民调解法》第五条、第六条和第七条", cmap) == [
        ("人民调解法", 5, "《人民调解法》第五条"), ("人民调解法", 6, "第六条"), ("人民调解法", 7, "第七条")]
    cits = find_citations("《人民调解法》第二十八条至第三十条", None, cmap)
    assert [(c.number, c.in_range) for c in cits] == [(28, True), (30, True)]


def test_numbers_sharing_one_article_word(cmap):
    assert cited("《人民调解法》第五、六条", cmap) == [("人民调解法", 5, "《人民调解法》第五"), ("人民调解法", 6, "六条")]
    assert cited("《民法典》第1042、1043条", cmap) == [("民法典", 1042, "《民法典》第1042"), ("民法典", 1043, "1043条")]
    cits = find_citations("《人民调解法》第二十八至三十条", None, cmap)
    assert [(c.number, c.in_range) for c in cits] == [(28, True), (30, True)]
    assert cited("《人民调解法》第三十五、三十六条", cmap) == [("人民调解法", 35, "《人民调解法》第三十五")]
    assert cited("《婚姻法》第五、六条", cmap) == [] and cited("第一、二审", cmap) == []


def test_paragraph_and_item_are_part_of_the_link(cmap):
    assert cited("《民法典》第一千零七十九条第三款第（二）项", cmap) == [
        ("民法典", 1079, "《民法典》第一千零七十九条第三款第（二）项")]
    assert cited("《民法典》合同编第五百条", cmap) == [("民法典", 500, "《民法典》合同编第五百条")]


def test_no_citation_unknown_law_and_out_of_range_stay_plain(cmap):
    assert cited("邻居家的树枝伸到我家院子里，怎么办？第三者插足怎么办？", cmap) == []
    assert cited("《中华人民共和国婚姻法》第三十二条已经废止，本法第三条也不再适用。", cmap) == []
    assert cited("《民法典》第一千二百六十一条", cmap) == []  # beyond the last article (1260)
    assert cited("《人民调解法》第三十六条", cmap) == []
    assert cited("《调解协议书》第三条", cmap) == []
    assert cited("第三十三条规定", cmap) == []  # a bare article outside a law's own text


def test_a_later_law_switches_the_context(cmap):
    text = "《人民调解法》第十七条，《民事诉讼法》第二百零五条，本法第二百零六条"
    assert [(n, a) for n, a, _ in cited(text, cmap)] == [("人民调解法", 17), ("民事诉讼法", 205), ("民事诉讼法", 206)]


def test_bare_article_in_a_law_own_text_uses_the_default_law(cmap, laws):
    ref = next(r for r in cmap.laws if r.law_id == laws["人民调解法"].id)
    text = "依照本法第二十八条和第三十一条的规定；当事人可以依照《中华人民共和国民事诉讼法》第二百零五条申请"
    assert [(n, a) for n, a, _ in cited(text, cmap, ref)] == [
        ("人民调解法", 28), ("人民调解法", 31), ("民事诉讼法", 205)]
    # in a law's text, 本法 stays that law even after another law is named; 该法 is the named one
    text = "《中华人民共和国民事诉讼法》规定的程序，本法第三条，该法第二百零五条"
    assert [(n, a) for n, a, _ in cited(text, cmap, ref)] == [("人民调解法", 3), ("民事诉讼法", 205)]


def test_filter_escapes_plain_text_and_keeps_line_breaks(app, laws):
    with app.test_request_context():
        html = link_citations("<script>alert(1)</script>\n见《人民调解法》第三十三条")
    assert isinstance(html, Markup)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<br>" in html
    law_id = laws["人民调解法"].id
    assert (f'<a class="cite" href="/laws/{law_id}/articles/33" data-cite-url="/laws/{law_id}/articles/33.json"'
            in html)
    assert ">《人民调解法》第三十三条</a>" in html


def test_filter_on_markup_links_only_in_text_nodes(app, laws):
    law_id = laws["民法典"].id
    source = Markup('<p title="《民法典》第五条"><strong>《民法典》</strong>第一千零四十二条 &amp; '
                    '<a href="/x">《民法典》第五条</a></p><p>《民法典》第一千零四十三条</p>')
    with app.test_request_context():
        html = str(link_citations(source))
    assert '<p title="《民法典》第五条">' in html  # attributes untouched
    assert '<a href="/x">《民法典》第五条</a>' in html  # no link inside a link
    assert f'href="/laws/{law_id}/articles/1042"' in html  # a name in <strong> still counts
    assert f'href="/laws/{law_id}/articles/1043"' in html
    assert "&amp;" in html
    assert len(re.findall(r'class="cite"', html)) == 2


def test_filter_handles_empty_and_none(app, laws):
    with app.test_request_context():
        assert link_citations(None) == Markup("")
        assert link_citations("") == Markup("")
        assert link_citations("没有引用任何法条的一段话") == Markup("没有引用任何法条的一段话")


def test_map_resolves_full_and_short_names_to_the_newest_version(cmap, laws):
    for name in ("中华人民共和国人民调解法", "人民调解法", " 人民调解法 "):
        assert cmap.resolve(name).law_id == laws["人民调解法"].id
    assert cmap.resolve("婚姻法").law_id == 0
    assert cmap.resolve("民法典").last_number == 1260


def test_linker_is_fast_enough_on_long_text(cmap):
    import time

    text = "根据《人民调解法》第十七条、第二十九条，以及民法典第1042条的规定，" * 500
    t = time.perf_counter()
    cits = find_citations(text, None, cmap)
    assert len(cits) == 1500
    assert time.perf_counter() - t < 2.0  # generous: a real regression (catastrophic backtracking) takes far longer


def test_lawref_unknown_has_no_articles():
    assert LawRef(0, "", frozenset()).last_number == 0


def _visible_text(html: str) -> str:
    import html as html_lib

    return html_lib.unescape(re.sub(r"<br>\n", "\n", re.sub(r"<(?!br>)[^>]+>", "", html)))


def test_linking_never_changes_the_text(app, laws):
    """Property: whatever the input, the visible text of the output is the input (only <a> added)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(["《民法典》", "《人民调解法》", "《婚姻法》", "人民调解法", "本法", "第", "条", "第三十三条",
                              "第1042条", "之一", "、", "至", "和", "，", "<", ">", "&", "\"", "\n", " ", "《", "》",
                              "一", "千", "十", "5", "款", "项", "调解"])

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(pieces, max_size=30).map("".join))
    def check(text):
        html = str(link_citations(text))
        assert _visible_text(html) == text
        assert "<script" not in html

    with app.test_request_context():
        check()


@pytest.mark.no_laws
def test_inserted_articles_zhi_yi(app, client, tmp_path):
    from portal.extensions import db
    from portal.statutes.operations import load_laws
    from tests.statutes.test_loader import GOOD

    folder = tmp_path / "laws" / "测试类"
    folder.mkdir(parents=True)
    (folder / "测试法(2020-01-01).md").write_text(GOOD, encoding="utf-8")
    load_laws(None, root=tmp_path / "laws")
    db.session.commit()
    cmap = CitationMap.from_database()
    cits = find_citations("《中华人民共和国测试法》第二条之一、第三条，《测试法》第二条之二", None, cmap)
    assert [(c.number, c.suffix, c.key) for c in cits] == [(2, 1, "2-1"), (3, 0, "3")]
    law_id = cits[0].law.law_id
    with app.test_request_context():
        assert f'href="/laws/{law_id}/articles/2-1"' in link_citations("见《测试法》第二条之一")
    data = client.get(f"/laws/{law_id}/articles/2-1.json").get_json()
    assert data["label"] == "第二条之一" and data["paragraphs"][0]["text"] == "插入的条文。"
    assert client.get(f"/laws/{law_id}/articles/2-2").status_code == 404
