"""Two browser pages, the mediator's and a party's: admit from the lobby, talk, run a caucus."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mediation_room.models import RoomMessage
from portal.extensions import db
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_page(browser, url, mobile, width=1280):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.goto(f"{url}/login")
    page.fill("input[name=mobile]", mobile)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_load_state()
    return ctx, page


def test_mediator_and_party_in_the_browser(browser, live_app, room_site, live_people):
    info = live_people
    url = f"{room_site.url}/rooms/{info['room_id']}"
    mctx, med = open_page(browser, room_site.url, info["mediator"][1])
    pctx, party = open_page(browser, room_site.url, info["a"][1], width=375)  # a phone
    sockets: list[str] = []
    party.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        med.goto(url)
        party.goto(url)
        party.wait_for_selector("#room-lobby:not([hidden])")
        # the Socket.IO connection names its room, for a proxy's room affinity (README, deploy)
        assert sockets and all(f"room={info['room_id']}" in u for u in sockets if "/socket.io/" in u)
        assert party.is_disabled("#room-text")
        # the mediator admits the party from the people list
        med.click(f"#room-people li[data-user-id='{info['a'][0]}'] button:has-text('准许入室')")
        party.wait_for_selector("#room-lobby", state="hidden")
        party.wait_for_function("!document.getElementById('room-text').disabled")
        # talk both ways; the text is shown as text, never as markup
        med.fill("#room-text", "双方好，今天在线调解。<b>请</b>陈述意见。")
        med.click("#room-send")
        party.wait_for_selector("#room-messages li:has-text('今天在线调解')")
        assert party.locator("#room-messages b").count() == 0
        party.fill("#room-text", "楼上漏水，希望赔偿维修费用。")
        party.press("#room-text", "Control+Enter")
        med.wait_for_selector("#room-messages li:has-text('希望赔偿维修费用')")
        # an over-long message is refused beside the field, and nothing is sent
        party.evaluate("document.getElementById('room-text').removeAttribute('maxlength')")
        party.fill("#room-text", "字" * 2001)
        party.click("#room-send")
        assert "不能超过2000字" in party.text_content("#room-text-err")
        party.fill("#room-text", "")
        # a caucus with the party
        med.click(f"#room-people li[data-user-id='{info['a'][0]}'] button:has-text('背靠背调解')")
        party.wait_for_selector("#room-caucus-banner:not([hidden])")
        assert "背靠背调解进行中" in party.text_content("#room-caucus-banner")
        med.fill("#room-text", "单独问一下，您能接受的最低金额是多少？")
        med.click("#room-send")
        party.wait_for_selector("#room-messages li.msg-caucus:has-text('最低金额')")
        party.fill("#room-text", "三千元可以接受。")
        party.click("#room-send")
        med.wait_for_selector("#room-messages li.msg-caucus:has-text('三千元')")
        med.click("#room-caucus-end")
        party.wait_for_selector("#room-caucus-banner", state="hidden")
        med.wait_for_selector("#room-messages li:has-text('背靠背调解已结束')")
        assert med.js_errors == [] and party.js_errors == []
    finally:
        mctx.close()
        pctx.close()
    with live_app.app_context():
        caucus = db.session.execute(select(RoomMessage.body).where(
            RoomMessage.room_id == info["room_id"], RoomMessage.caucus_party_id == info["a"][0])).scalars().all()
        assert caucus == ["单独问一下，您能接受的最低金额是多少？", "三千元可以接受。"]
