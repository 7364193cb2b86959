"""A mediator writes up a case in the browser, four reviewers approve it, the public finds it."""
import pytest

from portal.accounts.models import ReviewTier, Role
from tests.conftest import PASSWORD, Factory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(browser, server, user):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    page.goto(server.url + "/login")
    page.fill("#mobile", user["mobile"])
    page.fill("#password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_load_state()
    return ctx, page


def test_submit_review_through_every_tier_and_find_it(browser, live_server, live_app, page):
    with live_app.app_context():
        from portal.extensions import db

        f = Factory(live_app)
        province = f.region("220000000000", "吉林省")
        city = f.region("220100000000", "长春市", province)
        county = f.region("220102000000", "南关区", city)
        township = f.region("220102001000", "南岭街道", county)
        org = f.organisation(region_code="220102001000")
        users = {"mediator": f.user(Role.mediator, org=org, name="赵调解")}
        for tier, region in (("township", township), ("county", county), ("city", city), ("province", province)):
            users[tier] = f.user(Role.reviewer, region=region, tier=ReviewTier(tier), name=f"{tier}审核员")
        users = {k: {"mobile": u.mobile} for k, u in users.items()}
        db.session.commit()

    ctx, p = login(browser, live_server, users["mediator"])
    p.goto(live_server.url + "/cases/new")
    p.fill("#title", "一起因果园灌溉渠改道引发的相邻纠纷调解案")
    p.select_option("#dispute_type", "邻里纠纷")
    for level, code in ((1, "220000000000"), (2, "220100000000"), (3, "220102000000"), (4, "220102001000")):
        sel = f"#region_code-level-{level}"
        p.wait_for_selector(f"{sel} option[value='{code}']", state="attached")
        p.select_option(sel, code)
    p.fill("#keywords", "灌溉渠、相邻关系")
    p.fill("#basic_facts", "马德福承包的果园与邻居牛永贵的玉米地相邻。牛永贵将灌溉渠改道，马德福的果树因缺水枯死。"
                           "马德福电话13912345678。")
    p.fill("#mediation_process", "调解员到现场查看灌溉渠走向，向双方讲解相邻用水的法律规定。")
    p.fill("#result", "牛永贵恢复原渠道，并补偿马德福果苗损失。")
    p.fill("#commentary", "相邻用水纠纷应当按照有利生产、方便生活的原则处理。")
    p.fill("#legal_basis", "《中华人民共和国民法典》第二百九十条。")
    p.fill("#party_names", "马德福\n牛永贵")
    p.click("button:has-text('保存并预览脱敏结果')")
    p.wait_for_selector("text=脱敏预览并提交")
    preview = p.inner_text("main")
    assert "马某" in preview and "牛某" in preview and "13912345678" not in preview
    p.click("button:has-text('确认提交审核')")
    p.wait_for_selector("text=已脱敏并提交")
    assert not p.js_errors
    ctx.close()

    for tier in ("township", "county", "city", "province"):
        ctx, p = login(browser, live_server, users[tier])
        p.goto(live_server.url + "/cases/review")
        p.click("text=果园灌溉渠改道")
        p.check("input[name=action][value=approve]")
        p.click("button:has-text('提交审核意见')")
        p.wait_for_selector("text=已审核通过")
        assert not p.js_errors
        ctx.close()

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + "/cases/")
    page.fill("#cl-q", "灌溉渠")
    page.click("button:has-text('检索')")
    page.wait_for_selector("text=共 1 件")
    assert page.locator("mark", has_text="灌溉渠").count() >= 1
    page.click(".cl-hit-title a")
    page.wait_for_selector("text=省级典型案例")
    body = page.inner_text("main")
    assert "马某" in body and "马德福" not in body
    assert not page.js_errors
