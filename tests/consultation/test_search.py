"""Search over public answered consultations with a fixed corpus: expected top hits."""
from __future__ import annotations

import pytest

from portal.consultation import indexing
from portal.consultation import operations as ops
from portal.extensions import db

CORPUS = [
    ("婚姻家庭", "离婚后孩子抚养权归谁", "我和妻子协议离婚，孩子五岁，双方都想要抚养权，法院会怎么判？",
     "<p>依照《民法典》第一千零八十四条，离婚后不满两周岁的子女以由母亲直接抚养为原则，已满两周岁的按照最有利于未成年子女的原则判决。</p>"),
    ("劳动争议", "老板拖欠工资不给怎么办", "在饭店干了半年，老板拖欠四个月工资，一直不给。",
     "<p>根据《劳动合同法》第三十条，用人单位应当及时足额支付劳动报酬；可以向劳动保障监察投诉或申请劳动仲裁。</p>"),
    ("交通事故", "电动车被汽车撞了怎么赔偿", "骑电动车被小轿车撞伤住院，交警认定对方全责，医药费和误工费怎么赔？",
     "<p>依照《道路交通安全法》第七十六条，先由保险公司在交强险责任限额内赔偿，不足部分由有过错的一方赔偿。</p>"),
    ("土地承包", "出嫁女的承包地被村里收回", "我结婚后户口迁到婆家，娘家村里要收回我的承包地，合法吗？",
     "<p>依照《农村土地承包法》第三十一条，承包期内妇女结婚，在新居住地未取得承包地的，发包方不得收回其原承包地。</p>"),
    ("邻里纠纷", "楼上邻居漏水泡坏我家吊顶", "楼上卫生间漏水，我家吊顶和墙面都坏了，邻居不肯赔。",
     "<p>依照《民法典》第一千一百六十五条，行为人因过错侵害他人民事权益造成损害的，应当承担侵权责任。</p>"),
    ("借贷合同", "朋友借钱不还只有微信转账记录", "朋友借了三万元，没打借条，只有微信转账和聊天记录，能起诉吗？",
     "<p>微信转账记录和聊天记录属于电子数据，可以作为证据；借款事实清楚的，可以向人民法院起诉要求返还。</p>"),
    ("房产物业", "物业费可以因为服务差拒交吗", "小区物业服务很差，电梯经常坏，我能不能拒交物业费？",
     "<p>依照《民法典》第九百四十四条，业主不得以未接受或者无需接受相关物业服务为由拒绝支付物业费。</p>"),
    ("消费维权", "网购衣服七天无理由退货被拒", "网上买的衣服没穿过，商家拒绝七天无理由退货。",
     "<p>依照《消费者权益保护法》第二十五条，经营者采用网络方式销售商品，消费者有权自收到商品之日起七日内退货。</p>"),
]


@pytest.fixture
def corpus(make, worker, citizen):
    made = {}
    for category, title, question, answer in CORPUS:
        made[title] = make("answered", category=category, title=title, question=question, answer=answer)
    made["private"] = make("answered", public=False, category="婚姻家庭", title="私密的离婚抚养权问题",
                           question="这是一个不公开的离婚孩子抚养权问题，请勿公开。")
    made["open"] = make("open", category="劳动争议", title="尚未解答的工资问题",
                        question="公司拖欠工资，还没有人解答。")
    return made


@pytest.mark.parametrize("query,expected_top", [
    ("离婚孩子抚养权", "离婚后孩子抚养权归谁"),
    ("拖欠工资", "老板拖欠工资不给怎么办"),
    ("交通事故赔偿", "电动车被汽车撞了怎么赔偿"),
    ("承包地收回", "出嫁女的承包地被村里收回"),
    ("漏水", "楼上邻居漏水泡坏我家吊顶"),
    ("微信转账借钱", "朋友借钱不还只有微信转账记录"),
    ("物业费", "物业费可以因为服务差拒交吗"),
    ("七天无理由退货", "网购衣服七天无理由退货被拒"),
])
def test_expected_top_hit(app, corpus, query, expected_top):
    result = indexing.search(query)
    assert result.hits, query
    assert result.hits[0].fields["title"] == expected_top


def test_private_and_unanswered_never_found(app, corpus):
    titles = [h.fields["title"] for h in indexing.search("离婚 抚养权 工资", pagelen=50).hits]
    assert "私密的离婚抚养权问题" not in titles and "尚未解答的工资问题" not in titles
    assert indexing.INDEX.count() == len(CORPUS)


def test_category_filter_and_facets(app, corpus):
    result = indexing.search("赔偿 退货 工资", category="消费维权")
    assert [h.fields["title"] for h in result.hits] == ["网购衣服七天无理由退货被拒"]
    facets = dict(indexing.search("赔偿 退货 工资").facets["category"])
    assert facets.get("劳动争议") == 1


def test_highlight_marks_words(app, corpus):
    hit = indexing.search("物业费").hits[0]
    assert "<mark" in hit.highlights["title"]


def test_suggest_returns_at_most_five_similar(client, corpus):
    data = client.get("/consultation/suggest", query_string={"q": "离婚抚养权怎么判"}).get_json()
    assert 1 <= len(data["items"]) <= 5
    assert data["items"][0]["title"] == "离婚后孩子抚养权归谁"
    assert data["items"][0]["url"].startswith("/consultation/")
    assert client.get("/consultation/suggest", query_string={"q": "离"}).get_json()["items"] == []


def test_search_page(client, corpus):
    from tests.conftest import text_of

    resp = client.get("/consultation/", query_string={"q": "拖欠工资"})
    target = corpus["老板拖欠工资不给怎么办"]
    assert f'/consultation/{target.id}"' in resp.get_data(as_text=True)
    assert "共 1 条" in text_of(resp) and "<mark>拖欠" in resp.get_data(as_text=True)


def test_index_follows_close_and_rollback(app, make, citizen, worker):
    c = make("claimed", title="尚未解答的继承问题", question="父亲去世没有遗嘱，房子怎么继承？")
    assert not indexing.search("继承").hits
    ops.answer_consultation(worker, c, "<p>依照《民法典》第一千一百二十七条，遗产按照法定继承顺序继承。</p>")
    db.session.rollback()  # not committed: the index must not change
    assert not indexing.search("继承").hits
    c = db.session.get(type(c), c.id)
    ops.answer_consultation(worker, c, "<p>依照《民法典》第一千一百二十七条，遗产按照法定继承顺序继承。</p>")
    db.session.commit()
    assert [h.fields["title"] for h in indexing.search("继承").hits] == ["尚未解答的继承问题"]


def test_hostile_query_is_text(app, corpus):
    for q in ('title:*', '"', "AND OR NOT", "*" * 200, "<script>"):
        indexing.search(q)  # no exception


def test_reindex_cli_rebuilds(app, corpus):
    indexing.INDEX.rebuild([])
    assert indexing.INDEX.count() == 0
    result = app.test_cli_runner().invoke(args=["consultation", "reindex"])
    assert f"{len(CORPUS)} 条" in result.output
    assert indexing.search("物业费").hits[0].fields["title"] == "物业费可以因为服务差拒交吗"


@pytest.mark.parametrize("text,expanded", [
    ("拖欠工资", "拖欠 工资"),
    ("交通事故赔偿", "交通 事故 赔偿"),
    ("宅基地", "宅基地"),  # no clean split: kept whole
    ("请问title:* 怎么办", "title"),
])
def test_expand_query(app, text, expanded):
    assert indexing.expand_query(text) == expanded


def test_compound_query_finds_words_written_apart(app, corpus, make):
    c = make("answered", category="劳动争议", title="饭店拖欠了我三个月的工资",
             question="饭店老板拖欠了我三个月的工资，说年底一起结。", answer="<p>可以向劳动保障监察机构投诉，依法维护自身权益。</p>")
    titles = [h.fields["title"] for h in indexing.search("拖欠工资").hits]
    assert set(titles) == {"饭店拖欠了我三个月的工资", "老板拖欠工资不给怎么办"}
    suggested = [s["title"] for s in indexing.suggest("公司拖欠工资怎么办")]
    assert set(suggested[:2]) == {"老板拖欠工资不给怎么办", "饭店拖欠了我三个月的工资"}, suggested
    assert str(c.id) in [h.id for h in indexing.search("拖欠工资").hits]
