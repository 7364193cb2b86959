"""A person's first visit, in Debian's chromium: register, log out, log in, switch on 长者模式."""
import datetime as dt

import pytest

from portal.identity import make_id_number

pytestmark = pytest.mark.browser


def font_size(page, selector="main p") -> float:
    return page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


def test_register_login_and_elder_mode(live_server, page):
    base = live_server.url
    id_number = make_id_number("220102", dt.date(1958, 4, 9), "527")
    page.goto(base + "/register")
    page.get_by_label("手机号码").fill("13955556666")
    page.get_by_label("真实姓名").fill("刘桂芳")
    page.get_by_label("身份证号码").fill(id_number[:17] + ("0" if id_number[17] != "0" else "1"))
    page.get_by_label("密码", exact=True).fill("Guifang2026")
    page.get_by_label("确认密码").fill("Guifang2026")
    page.get_by_label("我已阅读并同意《用户服务协议》和《隐私政策》").check()
    page.get_by_role("button", name="注册").click()
    # A wrong check digit: the same page says so beside the field, nothing saved.
    assert page.get_by_text("身份证号码校验位不正确").is_visible()
    page.get_by_label("身份证号码").fill(id_number)
    page.get_by_label("密码", exact=True).fill("Guifang2026")
    page.get_by_label("确认密码").fill("Guifang2026")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(base + "/me")
    assert page.get_by_role("heading", name="我的事项").is_visible()
    assert id_number not in page.content() and "2201**********" in page.content()

    page.get_by_role("button", name="退出").click()
    page.goto(base + "/login")
    page.get_by_label("手机号码").fill("13955556666")
    page.get_by_label("密码").fill("Guifang2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/me")

    page.goto(base + "/")
    before = font_size(page, ".lead")
    page.get_by_role("button", name="长者模式：关").click()
    page.wait_for_function("document.documentElement.classList.contains('elder')")
    after = font_size(page, ".lead")
    assert after >= before * 1.2, (before, after)
    # Remembered on the next visit (the server renders the class from the cookie).
    page.goto(base + "/")
    assert page.evaluate("document.documentElement.className") == "elder"
    assert font_size(page, ".lead") == after
    assert page.js_errors == []


def test_phone_layout_menu_and_keyboard(live_server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page scrolls sideways on a phone: {width}px"
    # Keyboard: the first Tab reaches the skip link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到主要内容"
    nav_link = page.get_by_role("link", name="我的事项")
    assert not nav_link.is_visible()
    page.get_by_role("button", name="菜单").click()
    assert nav_link.is_visible()
    context.close()
