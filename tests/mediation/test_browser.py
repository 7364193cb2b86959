"""The whole path in a real browser: a citizen applies, the head accepts, the respondent consents,
the head assigns, the mediator proposes an agreement, both parties and the mediator sign, and the
downloaded PDF's extracted text holds both parties' names and the agreed terms."""
from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

from portal.accounts.models import Role
from portal.extensions import db
from tests.conftest import PASSWORD, Factory

TERMS = "李秀兰于十五日内修复卫生间防水层并赔偿张建国人民币叁仟贰佰元整。"


def login(browser, server, user):
    ctx = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.goto(server.url + "/login")
    page.fill("input[name=mobile]", user.mobile)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_load_state()
    return page


def act(page, url, summary, button, fill=None):
    page.goto(url)
    page.click(f"summary:has-text('{summary}')")
    for selector, value in (fill or {}).items():
        page.fill(selector, value)
    page.click(f"button:has-text('{button}')")
    page.wait_for_load_state()
    assert page.locator(".flash-success").count() == 1, page.locator("main").inner_text()[:800]


def test_whole_mediation_path_in_browser(live_server, browser):
    app = live_server.app
    with app.app_context():
        f = Factory(app)
        province = f.region("220000000000", "吉林省")
        f.region("220100000000", "长春市", province)
        f.region("220102000000", "南关区")
        f.region("220102001000", "南岭街道")
        f.region("220102001201", "民康社区")
        org = f.organisation("南岭街道人民调解委员会", "township", "220102001000", ["邻里纠纷", "其他"])
        users = {
            "a": f.user(name="张建国", mobile="13800000001"),
            "b": f.user(name="李秀兰", mobile="13800000002"),
            "mediator": f.user(Role.mediator, org=org, name="赵调解"),
            "head": f.user(Role.mediator, Role.committee_head, org=org, name="孙主任"),
        }
        db.session.commit()
        from types import SimpleNamespace

        users = {k: SimpleNamespace(mobile=u.mobile, real_name=u.real_name) for k, u in users.items()}

    # 1. the citizen applies (375 px wide), choosing the region with the cascading selects
    pa = login(browser, live_server, users["a"])
    pa.goto(live_server.url + "/mediation/apply")
    pa.select_option("select[name=dispute_type]", "邻里纠纷")
    for level, code in ((1, "220000000000"), (2, "220100000000"), (3, "220102000000"), (4, "220102001000"),
                        (5, "220102001201")):
        sel = pa.locator(f"select[data-level='{level}']")
        sel.wait_for()
        sel.select_option(code)
    pa.locator("[data-org-select] option", has_text="南岭街道人民调解委员会").wait_for(state="attached")
    assert "推荐" in pa.locator("[data-org-hint]").inner_text()
    pa.click("button:has-text('再添加一名被申请人')")  # a second entry appears; left empty, it is ignored
    assert pa.locator("input[name='respondents-1-name']").count() == 1
    assert pa.evaluate("document.activeElement.name") == "respondents-1-name"
    pa.fill("input[name='respondents-0-name']", "李秀兰")
    pa.fill("input[name='respondents-0-mobile']", "13800000002")
    pa.fill("input[name=amount]", "3200")
    pa.fill("textarea[name=facts]", "楼上住户卫生间漏水，致我家天花板受损。")
    pa.fill("textarea[name=claims]", "请求修复并赔偿损失3200元。")
    pa.click("button:has-text('提交申请')")
    pa.wait_for_load_state()
    assert "待受理" in pa.locator("[data-case-state]").inner_text()
    case_url = pa.url
    assert "/mediation/cases/" in case_url

    # 2. the head accepts; 3. the respondent consents; 4. the head assigns the suggested mediator
    ph = login(browser, live_server, users["head"])
    act(ph, case_url, "受理", "受理并通知被申请人")
    pb = login(browser, live_server, users["b"])
    act(pb, case_url, "同意调解", "我同意调解")
    act(ph, case_url, "指派调解员", "确认指派")
    assert "调解中" in ph.locator("[data-case-state]").inner_text()

    # 5. the mediator proposes the agreement (人民调解法 art. 29 items)
    pm = login(browser, live_server, users["mediator"])
    deadline = (dt.date.today() + dt.timedelta(days=15)).isoformat()
    act(pm, case_url, "制作调解协议", "提交各方签署", {
        "textarea[name='propose-disputed_matters']": "漏水损失的赔偿数额。",
        "textarea[name='propose-responsibilities']": "李秀兰负全部责任。",
        "textarea[name='propose-terms']": TERMS,
        "input[name='propose-performance_manner']": "银行转账",
        "input[name='propose-performance_place']": "长春市南关区",
        "input[name='propose-performance_deadline']": deadline,
    })
    assert "协议待签署" in pm.locator("[data-case-state]").inner_text()

    # 6. both parties sign, then the mediator
    for page, user in ((pa, users["a"]), (pb, users["b"]), (pm, users["mediator"])):
        act(page, case_url, "签署调解协议", "确认签署",
            {"input[name='sign-typed_name']": user.real_name, "input[name='sign-password']": PASSWORD})
    pa.goto(case_url)
    assert "调解成功" in pa.locator("[data-case-state]").inner_text()
    assert "申请司法确认" in pa.locator("main").inner_text()

    # 7. the downloaded PDF holds both names and the agreed terms
    with pa.expect_download() as info:
        pa.click("#agreement-pdf")
    data = Path(info.value.path()).read_bytes()
    text = "".join("".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages).split())
    for needle in ("张建国", "李秀兰", TERMS):
        assert needle in text
    for page in (pa, pb, ph, pm):
        assert page.js_errors == []
        page.context.close()
