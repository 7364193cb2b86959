"""Two Chromium pages with the fake camera join the room's video (issue 6): each page's remote
<video> plays the other's camera; recording is refused until the party consents, then the 录制中
indicator shows on both pages, and stopping files the recordings."""
from __future__ import annotations

import time

import pytest

from mediation_room import operations as ops
from portal.extensions import db
from portal.uploads import Attachment
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REMOTE_PLAYING = """() => {
  const v = document.querySelector('#rv-tiles li[data-peer] video');
  return !!v && v.videoWidth > 0;
}"""


def _login(browser, base, mobile, width=1280):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/login")
    page.get_by_label("手机号码").fill(mobile)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").last.click()
    page.wait_for_load_state()
    return ctx, page, errors


def test_two_pages_see_each_other_and_record_only_with_consent(browser, live_app, room_site, live_people):
    info = live_people
    with live_app.app_context():
        room = ops.get_room(info["room_id"])
        ops.admit_member(room.mediator, room, info["a"][0])
        db.session.commit()
    base = room_site.url
    ctx_m, pm, errors_m = _login(browser, base, info["mediator"][1])
    ctx_a, pa, errors_a = _login(browser, base, info["a"][1], width=375)  # the party is on a phone
    try:
        for page in (pm, pa):
            page.goto(f"{base}/rooms/{info['room_id']}")
            page.get_by_role("button", name="开启视频").click()
        for page in (pm, pa):
            page.wait_for_function(REMOTE_PLAYING, timeout=30_000)
            names = page.locator("#rv-tiles li[data-peer] .rv-name").all_text_contents()
            assert len(names) == 1
        assert pa.locator("#rv-tiles li[data-peer] .rv-name").text_content() == "调解员 赵**"
        assert pm.locator("#rv-tiles li[data-peer] .rv-name").text_content() == "当事人 张**"
        assert pa.evaluate("() => document.documentElement.scrollWidth") <= 375

        # Recording is refused while the party has not consented.
        assert not pm.locator("#rv-rec-indicator").is_visible()
        pm.get_by_role("button", name="开始录制").click()
        pm.wait_for_function("() => document.getElementById('rv-rec-error').textContent.includes('尚未同意')")
        assert "当事人 张**" in pm.locator("#rv-rec-error").text_content()
        assert not pa.locator("#rv-rec-indicator").is_visible()

        pa.get_by_role("button", name="我同意本次调解录音录像").click()
        pa.wait_for_function("() => document.getElementById('rv-consent').getAttribute('aria-pressed') === 'true'")
        pm.get_by_role("button", name="开始录制").click()
        for page in (pm, pa):
            page.locator("#rv-rec-indicator").wait_for(state="visible", timeout=10_000)
            assert page.locator("#rv-rec-indicator").text_content().strip() == "录制中"
        for page in (pm, pa):  # each page's camera reaches the media worker
            page.wait_for_function("() => window.RoomVideo.state().worker === 'connected'", timeout=30_000)
        worker = live_app.extensions["media_worker"]
        deadline = time.monotonic() + 30
        stats = {}
        while time.monotonic() < deadline:  # the worker (in this process) has decoded both cameras
            stats = worker.stats(f"room-{info['room_id']}")
            if len(stats) == 2 and all(s["received"].get("video", 0) > 0 for s in stats.values()):
                break
            pm.wait_for_timeout(200)
        else:
            raise AssertionError(f"the media worker did not receive both cameras: {stats}")
        pm.wait_for_timeout(3000)
        pm.get_by_role("button", name="停止录制").click()
        pm.wait_for_function("() => document.getElementById('rv-rec-status').textContent.includes('已归入卷宗')",
                             timeout=20_000)
        pa.locator("#rv-rec-indicator").wait_for(state="hidden", timeout=10_000)
        assert errors_m == [] and errors_a == []
    finally:
        ctx_m.close()
        ctx_a.close()
    with live_app.app_context():
        files = db.session.execute(db.select(Attachment).where(Attachment.owner_type == "room")).scalars().all()
        assert len(files) == 2, files
        assert all(f.content_type == "video/webm" and f.size > 1000 for f in files), [(f.content_type, f.size, f.original_name) for f in files]


NO_CAMERA = """(() => {
  const md = navigator.mediaDevices, orig = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => c && c.video ? Promise.reject(new DOMException("没有摄像头", "NotFoundError")) : orig(c);
})();"""
NO_DEVICES = """(() => {
  navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("拒绝", "NotAllowedError"));
})();"""


def test_audio_only_and_text_only_fallbacks(browser, live_app, room_site, live_people):
    info = live_people
    with live_app.app_context():
        room = ops.get_room(info["room_id"])
        ops.admit_member(room.mediator, room, info["a"][0])
        ops.admit_member(room.mediator, room, info["b"][0])
        db.session.commit()
    base = room_site.url
    ctx_m, pm, errors_m = _login(browser, base, info["mediator"][1])
    ctx_a, pa, errors_a = _login(browser, base, info["a"][1])
    ctx_b, pb, errors_b = _login(browser, base, info["b"][1])
    ctx_a.add_init_script(NO_CAMERA)
    ctx_b.add_init_script(NO_DEVICES)
    try:
        for page in (pm, pa, pb):
            page.goto(f"{base}/rooms/{info['room_id']}")
            page.get_by_role("button", name="开启视频").click()
        pa.locator("#rv-fallback").wait_for(state="visible")
        assert "仅语音" in pa.locator("#rv-fallback").text_content()
        pb.locator("#rv-fallback").wait_for(state="visible")
        assert "通过下方文字参加调解" in pb.locator("#rv-fallback").text_content()
        # Without a camera (or any device) one still sees and hears the mediator.
        for name, page in (("party A", pa), ("party B", pb)):
            try:
                page.wait_for_function("""() => [...document.querySelectorAll('#rv-tiles li[data-peer]')]
                    .some(li => li.querySelector('.rv-name').textContent.startsWith('调解员')
                                && li.querySelector('video').videoWidth > 0)""", timeout=30_000)
            except Exception:  # say what each page shows, so a failure can be told from a slow machine
                shown = {n: p.locator("#rv-tiles").inner_text() for n, p in (("mediator", pm), ("party A", pa), ("party B", pb))}
                raise AssertionError(f"{name} never saw the mediator's picture; tiles: {shown}") from None
        # The mediator has a tile for each, marked as having no picture.
        pm.wait_for_function("() => document.querySelectorAll('#rv-tiles li[data-peer].rv-noimage').length === 2",
                             timeout=30_000)
        # each peer's microphone state arrives in its own media event, possibly after its tile: wait for it
        deadline = time.monotonic() + 15
        while True:
            flags = sorted(pm.locator("#rv-tiles li[data-peer] .rv-flags").all_text_contents())
            if flags == ["已静音 · 无画面", "无画面"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert flags == ["已静音 · 无画面", "无画面"]
        assert pa.get_by_role("button", name="静音").is_visible()  # a microphone to mute
        assert not pa.locator("#rv-cam").is_visible()              # but no camera to switch
        assert errors_m == errors_a == errors_b == []
    finally:
        for ctx in (ctx_m, ctx_a, ctx_b):
            ctx.close()
