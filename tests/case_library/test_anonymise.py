"""The anonymiser: placeholders, pattern removal, name detection, and the final check."""
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from case_library.anonymise import (
    anonymise,
    assign_placeholders,
    detect_names,
    remaining_sensitive,
)

ID_RE = re.compile(r"\d{17}[\dXx]")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")


def test_placeholders_are_distinct_per_person_and_follow_the_surname():
    p = assign_placeholders(["张建国", "李秀兰", "张小明", "欧阳娜娜", "张伟", "张建国"])
    assert p == {"张建国": "张某", "李秀兰": "李某", "张小明": "张某某", "欧阳娜娜": "欧阳某", "张伟": "张某甲"}


def test_names_are_replaced_consistently_across_sections():
    out = anonymise({"basic_facts": "张建国与张小明争吵，张建国报警。", "result": "张小明向张建国道歉。"},
                    ["张建国", "张小明"])
    assert out.sections == {"basic_facts": "张某与张某某争吵，张某报警。", "result": "张某某向张某道歉。"}
    names = [r for r in out.replacement_dicts() if r["kind"] == "name"]
    assert {r["placeholder"] for r in names} == {"张某", "张某某"}
    assert all("建国" not in r["original"] and "小明" not in r["original"] for r in names)


def test_identifiers_addresses_and_plates_are_removed():
    text = ("身份证号220102196805120011，手机138-0000-0001，座机0431-88886666，"
            "车牌吉A·12345，银行卡6222 0212 3456 7890 123，住南关区人民大街1234号5栋2单元301室，"
            "另一个号码１３９００００００００。")
    out = anonymise({"basic_facts": text}).sections["basic_facts"]
    for leaked in ("220102196805120011", "0001", "88886666", "12345", "6222", "人民大街1234号", "5栋2单元"):
        assert leaked not in out
    assert "南关区" in out  # administrative areas above street level stay
    assert "（身份证号码已隐去）" in out and "（车牌号已隐去）" in out and "（详细地址已隐去）" in out
    assert not remaining_sensitive({"basic_facts": out})


def test_amounts_and_dates_are_left_alone():
    text = "2023年10月5日，双方约定赔偿13500元，分3期付清。"
    out = anonymise({"result": text})
    assert out.sections["result"] == text
    assert out.replacements == []


def test_the_final_check_finds_numbers_broken_by_separators():
    assert remaining_sensitive({"process": "电话138 0000.0000"}) == [("process", "手机号码")]
    assert remaining_sensitive({"process": "身份证 2201 0219 6805 1200 11"})
    assert remaining_sensitive({"process": "赔偿13500元"}) == []


def test_unknown_names_are_detected_for_the_author_to_choose():
    found = detect_names({"process": "调解员请来村里的老党员王建华一同做工作，张某表示同意。"}, known=["张建国"])
    assert "王建华" in found
    assert all("某" not in n for n in found)


chinese = st.text(alphabet=st.sampled_from(list("的一是在了不和有大这主中人上为们地个用工时要动国产以我到他会作来分生对于学下级就年阶义发成部民可出能方进同行面说种过命度革而多子后自社加小机也经力线本电高量长党得实家定深法表着水理化争现所二起政三好十战无农使性前等反体合斗路图把结第里正新开论之物从当两些还天资事队批如应形想制心样干都向变关点育重其思与间内去因件日利相由压员气业代全组数果期导平各基或月毛然问比展那它最及外没看治提五解系林者米群头意只明四道马认次文通但条较克又公孔领军流入接席位情运器并飞原油放立题质指建区验活众很教决特此常石强极土少已根共直团统式转别造切九你取西持总料连任志观调七么山程百报更见必真保热委手改管处己将修支识病象几先老光专什六型具示复安带每东增则完风回南广劳轮科北打积车计给节做务被整联步类集号列温装即毫知轴研单色坚据速防史拉世设达尔场织历花受求传口断况采精金界品判参层止边清至万确究书术状厂须离再目海交权且儿青才证低越际八试规斯近注办布门铁需走议县兵固除般引齿千胜细影济白格效置推空配刀叶率述今选养德话查差半敌始片施响收华觉备名红续均药标记难存测士身紧液派准斤角降维板许破述技消底床田势端感往神便贺村构照容非搞亚磨族火段算适讲按值美态黄易彪服早班麦削信排台声该击素张密害侯草何树肥继右属市严径螺检左页抗苏显苦英快称坏移约巴材省黑武培著河帝仅针怎植京助升王眼她抓含苗副杂普谈围食射源例致酸旧却充足短划剂宣环落首尺波承粉践府鱼随考刻靠够满夫失包住促枝局菌杆周护岩师举曲春元超负砂封换太模贫减阳扬江析亩木言球朝医校古呢稻宋听唯输滑站另卫字鼓刚写刘微略范供阿块某功套友限项余倒卷创律雨让骨远帮初皮播优占死毒圈伟季训控激找叫云互跟裂粮粒母练塞钢顶策双留误础吸阻故寸盾晚丝女散焊功株亲院冷彻弹错散商视艺灭版烈零室轻血倍缺厘泵察绝富城冲喷壤简否柱李望盘磁雄似困巩益洲脱投送奴侧润盖挥距触星松送获兴独官混纪依未突架宽冬章湿偏纹吃执阀矿寨责熟稳夺硬价努翻奇甲预职评读背协损棉侵灰虽矛厚罗泥辟告卵箱掌氧恩爱停曾溶营终纲孟钱待尽俄缩沙退陈讨奋械载胞幼哪剥迫旋征槽倒握担仍呀鲜吧卡粗介钻逐弱脚怕盐末阴丰雾冠丙街莱贝辐肠付吉渗瑞惊顿挤秒悬姆烂森糖圣凹陶词迟蚕亿矩，。、；：（）“”《》 0123456789")),
                max_size=60)
surnames = st.sampled_from(list("张李王刘陈杨赵黄周吴"))
given_names = st.text(alphabet=st.sampled_from(list("建国秀兰小明海燕志强丽华德军桂芝")), min_size=1, max_size=2)


def id_numbers():
    return st.tuples(st.from_regex(r"\A[1-6]\d{16}\Z"), st.sampled_from(list("0123456789X"))).map("".join)


mobiles = st.from_regex(r"\A1[3-9]\d{9}\Z")


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(st.one_of(chinese, id_numbers(), mobiles, st.tuples(surnames, given_names).map("".join)),
                    min_size=1, max_size=12),
    people=st.lists(st.tuples(surnames, given_names).map("".join), min_size=1, max_size=5, unique=True),
)
def test_property_no_id_or_mobile_survives_and_each_person_keeps_one_placeholder(chunks, people):
    # Mention every person at least twice, in two sections, among arbitrary text, IDs and mobiles.
    a = "".join(chunks) + "".join(people)
    b = "".join(reversed(people)) + "".join(chunks)
    out = anonymise({"basic_facts": a, "result": b}, people)
    for text in out.sections.values():
        assert not ID_RE.search(text), text
        assert not MOBILE_RE.search(text), text
    placeholders = out.placeholders
    # distinct people, distinct placeholders; the same person, one placeholder everywhere
    assert len(set(placeholders.values())) == len(placeholders)
    for name in people:
        if any(name != other and name in other for other in people):
            continue  # a name inside a longer name is replaced as part of the longer one
        for text in out.sections.values():
            assert name not in text
            assert placeholders[name] in text  # mentioned in both sections, the same placeholder
    assert not remaining_sensitive(out.sections)
