"""The site frame: error pages, security headers, 长者模式, inbox, 我的事项."""
import pytest

from portal.notifications import notify
from portal.extensions import db
from tests.conftest import text_of


def test_unknown_page_is_a_styled_chinese_404(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert "页面不存在" in text_of(resp) and "公共法律服务网" in text_of(resp)


def test_server_error_is_styled_and_leaks_nothing(app):
    @app.get("/boom-test")
    def boom():
        raise RuntimeError("secret internal detail")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = app.test_client().get("/boom-test")
    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    assert "系统繁忙" in body and "secret internal detail" not in body and "Traceback" not in body


def test_security_headers_and_no_inline_script(client):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    html = resp.get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html and " style=" not in html


def test_session_cookie_flags(client, factory, auth):
    user = factory.user()
    resp = auth.login(user)
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_elder_mode_is_remembered_by_cookie(client):
    assert 'class="elder"' not in client.get("/").get_data(as_text=True)
    resp = client.post("/elder-mode", data={"on": "1", "next": "/"})
    assert resp.status_code == 302 and "elder_mode=1" in resp.headers["Set-Cookie"]
    assert 'class="elder"' in client.get("/").get_data(as_text=True)
    client.post("/elder-mode", data={"on": "0", "next": "/"})
    assert 'class="elder"' not in client.get("/").get_data(as_text=True)


def test_elder_mode_refuses_offsite_redirect(client):
    resp = client.post("/elder-mode", data={"on": "1", "next": "//evil.example/x"})
    assert resp.headers["Location"].endswith("/")
    assert "evil" not in resp.headers["Location"]


def test_login_next_is_never_offsite(client, factory, auth):
    user = factory.user()
    resp = client.post("/login?next=//evil.example", data={"mobile": user.mobile, "password": "Passw0rd2026"})
    assert "evil" not in resp.headers["Location"]


def test_inbox_shows_own_notices_only(client, factory, auth):
    alice, bob = factory.user(name="爱丽丝"), factory.user(name="鲍勃")
    note = notify(alice, "您的咨询已有答复", link="/me")
    db.session.commit()
    auth.login(bob)
    assert "您的咨询已有答复" not in text_of(client.get("/inbox"))
    assert client.post(f"/inbox/{note.id}/read").status_code == 404
    auth.logout()
    auth.login(alice)
    assert "您的咨询已有答复" in text_of(client.get("/inbox"))
    assert client.post(f"/inbox/{note.id}/read").headers["Location"].endswith("/me")
    assert note.read_at is not None


@pytest.mark.parametrize("path", ["/me", "/inbox", "/account", "/admin/", "/admin/users", "/admin/organisations",
                                  "/admin/regions"])
def test_private_pages_need_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_phone_width_viewport_meta(client):
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in client.get("/").get_data(as_text=True)
