"""The statute pages over HTTP: list by category, law page with anchors, article page and JSON,
search with filters, and bad input (unknown ids, hostile or huge queries) never a 500."""
import re

import pytest

from tests.conftest import text_of


def test_index_lists_laws_by_category(client, laws):
    resp = client.get("/laws/")
    assert resp.status_code == 200
    text = text_of(resp)
    for category in ("民法典", "社会法", "行政法", "行政法规", "诉讼与非诉讼程序法", "民法商法"):
        assert category in text
    assert "中华人民共和国人民调解法" in text and "35 条" in text
    assert f'href="/laws/{laws["人民调解法"].id}"' in resp.get_data(as_text=True)


def test_law_page_has_toc_and_article_anchors(client, laws):
    law = laws["人民调解法"]
    resp = client.get(f"/laws/{law.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for n in range(1, 36):
        assert f'id="art-{n}"' in html
    assert "第五章 调解协议" in text_of(resp)
    assert re.search(r'<a href="#div-\d+">第五章 调解协议</a>', html)
    assert "2011年01月01日" in text_of(resp)  # 施行日期


def test_civil_code_page_has_all_books_and_internal_links(client, laws):
    code = laws["民法典"]
    resp = client.get(f"/laws/{code.id}")
    html = resp.get_data(as_text=True)
    assert html.count('class="statute-article"') == 1260
    for book in ("总则", "物权编", "合同编", "人格权编", "婚姻家庭编", "继承编", "侵权责任编", "附则"):
        assert f">{book}</a>" in html
    # 第三百三十八条 … 依据本法第二百四十三条 → a link inside the law's own text
    assert f'href="/laws/{code.id}/articles/243"' in html


def test_article_page_and_json(client, laws):
    law = laws["人民调解法"]
    resp = client.get(f"/laws/{law.id}/articles/33")
    assert resp.status_code == 200
    text = text_of(resp)
    assert "《中华人民共和国人民调解法》第三十三条" in text and "申请司法确认" in text
    assert "上一条：第三十二条" in text and "下一条：第三十四条" in text
    data = client.get(f"/laws/{law.id}/articles/33.json").get_json()
    assert data["label"] == "第三十三条" and data["law"] == "人民调解法"
    assert data["heading"] == "《人民调解法》第三十三条"
    assert data["url"] == f"/laws/{law.id}/articles/33"
    assert data["law_url"] == f"/laws/{law.id}#art-33"
    assert data["paragraphs"][0]["kind"] == "para"
    assert "申请司法确认" in data["paragraphs"][0]["text"]


def test_related_articles_on_an_article_page(client, laws):
    code = laws["民法典"]
    resp = client.get(f"/laws/{code.id}/articles/327")
    text = text_of(resp)
    assert "相关条文" in text and "《民法典》第二百四十三条" in text and "《民法典》第二百四十五条" in text
    assert "本条引用的条文" in text and "引用本条的条文" not in text
    # …and the other way round: 第二百四十三条 is cited by 第三百二十七、三百三十八、三百五十八条
    html = client.get(f"/laws/{code.id}/articles/243").get_data(as_text=True)
    cited_by = html[html.index("引用本条的条文"):]
    for n in (327, 338, 358):
        assert f'href="/laws/{code.id}/articles/{n}"' in cited_by
    # across laws: 民事诉讼法 articles that cite 《人民调解法》 would be listed the same way; an
    # article nobody cites has no such list
    assert "引用本条的条文" not in text_of(client.get(f"/laws/{laws['人民调解法'].id}/articles/1"))


@pytest.mark.parametrize("path", [
    "/laws/99999", "/laws/99999/articles/1", "/laws/{id}/articles/36", "/laws/{id}/articles/0",
    "/laws/{id}/articles/abc", "/laws/{id}/articles/33-1", "/laws/{id}/articles/99999999999",
    "/laws/{id}/articles/36.json", "/laws/{id}/articles/..json",
])
def test_unknown_laws_and_articles_give_404(client, laws, path):
    assert client.get(path.format(id=laws["人民调解法"].id)).status_code == 404


def test_search_page_shows_law_article_and_highlight(client, laws):
    resp = client.get("/laws/search", query_string={"q": "司法确认 三十日"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    first = html.index('class="list statute-hits"')
    assert "《人民调解法》第三十三条" in html[first:first + 2000]
    assert "<mark>" in html
    assert f'href="/laws/{laws["人民调解法"].id}/articles/33"' in html


def test_search_filters(client, laws):
    law = laws["民事诉讼法"]
    resp = client.get("/laws/search", query_string={"q": "调解协议", "law": law.id})
    hits = re.findall(r'<h2 class="statute-hit-title"><a href="/laws/(\d+)/', resp.get_data(as_text=True))
    assert hits and set(hits) == {str(law.id)}
    resp = client.get("/laws/search", query_string={"q": "调解", "category": "行政法规"})
    html = resp.get_data(as_text=True)
    titles = re.findall(r'<h2 class="statute-hit-title"><a [^>]*>《([^》]+)》', html)
    assert titles and set(titles) <= {"医疗纠纷预防和处理条例", "信访工作条例", "物业管理条例"}
    # unknown filter values are ignored, not errors
    assert client.get("/laws/search", query_string={"q": "调解", "law": "x", "category": "<b>"}).status_code == 200


@pytest.mark.parametrize("q", ['title:*', '"(', "law_id:1 OR 1=1", "<script>alert(1)</script>", "*", "。，！",
                               "调" * 10000])
def test_hostile_and_huge_queries_never_fail(client, laws, q):
    resp = client.get("/laws/search", query_string={"q": q, "page": "9999"})
    assert resp.status_code == 200
    assert "<script>alert(1)</script>" not in resp.get_data(as_text=True)


def test_query_over_the_limit_is_reported_beside_the_field(client, laws):
    text = text_of(client.get("/laws/search", query_string={"q": "司法确认" * 100}))
    assert "检索词过长" in text
    text = text_of(client.get("/laws/search", query_string={"q": "。，！"}))
    assert "没有可检索的文字" in text


def test_pages_have_no_inline_script_or_style(client, laws):
    for path in ("/laws/", f"/laws/{laws['人民调解法'].id}", f"/laws/{laws['人民调解法'].id}/articles/3",
                 "/laws/search?q=调解"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=", html) and " style=" not in html, path
        assert "js/statutes.js" in html and "css/statutes.css" in html


def test_nav_entry(client, laws):
    assert '<a href="/laws/"' in client.get("/").get_data(as_text=True)


@pytest.mark.no_laws
def test_cli_load_and_reindex(app, tmp_path):
    from tests.statutes.test_loader import GOOD

    folder = tmp_path / "laws" / "测试类"
    folder.mkdir(parents=True)
    (folder / "测试法(2020-01-01).md").write_text(GOOD, encoding="utf-8")
    (folder / "坏文件(2020-01-01).md").write_text("# 坏文件\n\n第一条 没有标记。\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["statutes", "load", "--folder", str(tmp_path / "laws")])
    assert "新增 1 部" in result.output and "错误 1 处" in result.output
    assert "测试类/坏文件(2020-01-01).md:3" in result.output
    assert "已重建条文索引：4 条" in result.output
    assert result.exit_code == 1
    result = runner.invoke(args=["statutes", "load", "--folder", str(tmp_path / "laws")])
    assert "新增 0 部" in result.output and "未变 1 部" in result.output and "条文索引已是最新" in result.output
    result = runner.invoke(args=["statutes", "reindex"])
    assert result.exit_code == 0 and "已重建条文索引：4 条" in result.output


@pytest.mark.no_laws
def test_empty_library_pages(client):
    assert "法律法规尚未导入" in text_of(client.get("/laws/"))
    assert client.get("/laws/search?q=调解").status_code == 200
