"""Behind a reverse proxy: the client's address comes from X-Forwarded-For only when the operator
says how many proxies to trust (TRUSTED_PROXIES); HSTS once the site is served over HTTPS."""
import pytest

from portal import create_app
from portal.accounts.routes import login_limiter
from portal.extensions import db
from tests.conftest import text_of

WRONG = {"mobile": "13700000000", "password": "wrong-pass1"}


def exhaust(client, forwarded_for):
    for _ in range(login_limiter.limit):
        client.post("/login", data=WRONG, headers={"X-Forwarded-For": forwarded_for})


def limited(client, forwarded_for) -> bool:
    resp = client.post("/login", data=WRONG, headers={"X-Forwarded-For": forwarded_for})
    return resp.status_code == 422 and "登录尝试过于频繁" in text_of(resp)


@pytest.fixture
def limiter_on(app):
    app.config["RATELIMIT_ENABLED"] = True
    login_limiter.reset()
    yield
    login_limiter.reset()


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_dodge_the_limit(app, client, limiter_on):
    exhaust(client, "198.51.100.1")
    assert limited(client, "203.0.113.9")  # same socket address: the header is not believed


@pytest.fixture
def proxied_app(app, db_url, tmp_path):
    proxied = create_app({**{k: app.config[k] for k in (
        "TESTING", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "WTF_CSRF_ENABLED", "PASSWORD_HASH_METHOD")},
        "SQLALCHEMY_DATABASE_URI": db_url, "UPLOAD_FOLDER": str(tmp_path / "u2"),
        "INDEX_FOLDER": str(tmp_path / "i2"), "RATELIMIT_ENABLED": True, "TRUSTED_PROXIES": 1})
    with proxied.app_context():
        db.create_all()
        login_limiter.reset()
        yield proxied
        login_limiter.reset()


def test_behind_one_trusted_proxy_each_visitor_has_its_own_limit(proxied_app):
    client = proxied_app.test_client()
    exhaust(client, "198.51.100.1")
    assert limited(client, "198.51.100.1")
    assert not limited(client, "203.0.113.9")  # another visitor behind the same proxy
    # a client cannot push a fake address in front of the one the proxy appended
    assert limited(client, "203.0.113.77, 198.51.100.1")


def test_hsts_only_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    assert client.get("/").headers["Strict-Transport-Security"] == "max-age=31536000"
