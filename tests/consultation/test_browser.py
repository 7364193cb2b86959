"""In Debian's chromium: a citizen asks and sees a suggestion while typing the title, a legal worker
claims and answers, the citizen rates; the ask page fits a 375 px phone."""
from __future__ import annotations

import datetime as dt

import pytest

from portal.accounts.models import Role
from portal.accounts.operations import create_user
from portal.consultation import operations as ops
from portal.extensions import db
from portal.identity import make_id_number
from portal.places.models import Region

pytestmark = pytest.mark.browser
PASSWORD = "Passw0rd2026"


def _seed(app):
    with app.app_context():
        regions = {}
        for code, name, level, parent in [("220000000000", "吉林省", 1, None), ("220100000000", "长春市", 2, "220000000000"),
                                          ("220102000000", "南关区", 3, "220100000000"),
                                          ("220102001000", "南岭街道", 4, "220102000000")]:
            r = Region(code=code, name=name, level=level, parent_id=regions[parent].id if parent else None)
            db.session.add(r)
            db.session.flush()
            regions[code] = r
        create_user("13800000001", PASSWORD, "张建国", make_id_number("220102", dt.date(1968, 5, 12), "001"))
        other = create_user("13800000002", PASSWORD, "李秀兰", make_id_number("220102", dt.date(1975, 9, 3), "002"))
        worker = create_user("13800000003", PASSWORD, "王律师", make_id_number("220102", dt.date(1985, 1, 20), "003"),
                             [(Role.legal_worker, None, regions["220100000000"], None)])
        old = ops.ask_question(other, category="婚姻家庭", region=regions["220102001000"], title="离婚后孩子抚养权归谁",
                               question="我和丈夫要离婚，孩子五岁，抚养权一般怎么判？")
        ops.claim_consultation(worker, old)
        ops.answer_consultation(worker, old, "<p>依照《民法典》第一千零八十四条，以最有利于未成年子女的原则判决。</p>")
        db.session.commit()


def _login(page, base, mobile):
    page.goto(base + "/login")
    page.get_by_label("手机号码").fill(mobile)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/me")


def test_ask_suggest_claim_answer_rate(live_server, browser):
    _seed(live_server.app)
    base = live_server.url
    ctx_c = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    citizen = ctx_c.new_page()
    errors: list[str] = []
    citizen.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(citizen, base, "13800000001")

    citizen.goto(base + "/consultation/ask")
    citizen.get_by_label("咨询类别").select_option("婚姻家庭")
    for level, code in ((1, "220000000000"), (2, "220100000000"), (3, "220102000000"), (4, "220102001000")):
        sel = citizen.locator(f"#region_code-level-{level}")
        sel.wait_for()
        citizen.wait_for_function(
            "([id, code]) => !!document.querySelector('#' + id + ' option[value=\"' + code + '\"]')",
            arg=[f"region_code-level-{level}", code])
        sel.select_option(code)
    assert citizen.locator("#region_code").input_value() == "220102001000"

    citizen.get_by_label("标题").press_sequentially("离婚孩子抚养权怎么判", delay=30)
    suggestion = citizen.locator("[data-suggest-list] a", has_text="离婚后孩子抚养权归谁")
    suggestion.wait_for(timeout=10000)
    assert citizen.locator("[data-suggest-box]").is_visible()

    citizen.get_by_label("问题描述").fill("结婚八年，孩子七岁一直跟我生活，丈夫起诉离婚并要抚养权，我该怎么办？")
    citizen.get_by_label("公开（隐去姓名、电话等个人信息，解答可供他人参考）").check()
    citizen.get_by_role("button", name="提交问题").click()
    citizen.wait_for_url(base + "/consultation/*")
    question_url = citizen.url
    assert citizen.get_by_text("待解答").first.is_visible()

    ctx_w = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    worker = ctx_w.new_page()
    worker.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(worker, base, "13800000003")
    worker.goto(base + "/consultation/queue")
    worker.get_by_role("button", name="认领：离婚孩子抚养权怎么判").click()
    worker.wait_for_url(question_url)
    assert worker.get_by_text("认领成功").is_visible()
    worker.get_by_label("解答内容").fill(
        "<p>依照《民法典》第一千零八十四条，已满八周岁的子女应尊重其真实意愿；孩子七岁，法院按最有利于未成年子女的原则判决。</p>")
    worker.get_by_role("button", name="发布解答").click()
    worker.wait_for_url(question_url)
    assert worker.get_by_text("解答已发布").is_visible()

    citizen.goto(question_url)
    assert citizen.get_by_text("最有利于未成年子女的原则判决").is_visible()
    citizen.get_by_label("4星").check()
    citizen.get_by_label("评价（可选）").fill("解答清楚，谢谢王律师")
    citizen.get_by_role("button", name="评价并办结").click()
    citizen.wait_for_url(question_url)
    assert citizen.get_by_text("已办结").first.is_visible()
    assert citizen.get_by_text("解答清楚，谢谢王律师").is_visible()
    assert errors == []
    ctx_c.close()
    ctx_w.close()


def test_ask_page_fits_a_phone(live_server, browser):
    _seed(live_server.app)
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    _login(page, live_server.url, "13800000001")
    for path in ("/consultation/ask", "/consultation/", "/consultation/1"):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    context.close()
