"""Rate limits across processes (issue 9): the counters in Redis.

Two app instances of one site (the same database, the same Redis at 127.0.0.1:6379, a key prefix
unique to the test) take turns answering one client address: login, registration and
consultation posting are limited in total, not per instance. Their process memory is never used
(it stays empty), so the limit really is held by Redis. With Redis unreachable the limiter fails
open (logged), and the per-account login lock in the database still applies.
"""
from __future__ import annotations

import itertools
import logging
import uuid

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import PASSWORD, Factory, text_of

pytestmark = [pytest.mark.redis]
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.RedisError:
        pytest.fail("the Redis server on 127.0.0.1:6379 is not running (see README: 部署)")
    return client


@pytest.fixture
def site(tmp_path, redis_client):
    """Two instances of one site; yields (app_a, app_b, key prefix)."""
    prefix = f"test-ratelimit:{uuid.uuid4().hex}"
    config = {
        "TESTING": True, "SECRET_KEY": "rl-secret", "WTF_CSRF_ENABLED": False,
        "FIELD_ENCRYPTION_KEY": "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E=",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"), "INDEX_FOLDER": str(tmp_path / "index"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URL": REDIS, "RATELIMIT_KEY_PREFIX": prefix,
    }
    app_a, app_b = create_app(dict(config)), create_app(dict(config))
    with app_a.app_context():
        db.create_all()
    yield app_a, app_b, prefix
    for key in redis_client.scan_iter(f"{prefix}:*"):
        redis_client.delete(key)


@pytest.fixture
def small_limits(monkeypatch):
    """Small limits keep the test short; the limiter objects are the site's own."""
    from portal.accounts.routes import login_limiter, register_limiter
    from portal.consultation.routes import ask_limiter

    for limiter, limit in ((login_limiter, 6), (register_limiter, 3), (ask_limiter, 3)):
        monkeypatch.setattr(limiter, "limit", limit)
        limiter.reset()
    yield login_limiter, register_limiter, ask_limiter
    for limiter in (login_limiter, register_limiter, ask_limiter):
        limiter.reset()


def _alternate(app_a, app_b):
    clients = [app_a.test_client(), app_b.test_client()]
    return itertools.cycle(clients)


def test_login_limit_holds_across_two_instances(site, small_limits, redis_client):
    app_a, app_b, prefix = site
    login_limiter = small_limits[0]
    turns = _alternate(app_a, app_b)
    for i in range(login_limiter.limit):
        resp = next(turns).post("/login", data={"mobile": f"1370000{i:04d}", "password": "wrong-pass1"})
        assert "登录尝试过于频繁" not in text_of(resp), f"refused after only {i} attempts"
    # one more, on either instance: refused, although each instance has seen only half the attempts
    for client in (next(turns), next(turns)):
        resp = client.post("/login", data={"mobile": "13700009999", "password": "wrong-pass1"})
        assert resp.status_code == 422 and "登录尝试过于频繁" in text_of(resp)
    assert redis_client.zcard(f"{prefix}:login:127.0.0.1") == login_limiter.limit
    assert login_limiter._hits == {}, "the instances counted in process memory, not in Redis"


def test_registration_limit_holds_across_two_instances(site, small_limits):
    from portal.identity import make_id_number

    app_a, app_b, _prefix = site
    register_limiter = small_limits[1]
    import datetime as dt

    def form(i):
        return {"mobile": f"1391111{i:04d}", "real_name": "王五", "password": PASSWORD, "confirm": PASSWORD,
                "id_number": make_id_number("220102", dt.date(1990, 1, 1) + dt.timedelta(days=i), f"{i:03d}"),
                "agree": "y"}

    apps = itertools.cycle([app_a, app_b])  # a new browser each time (a registration logs it in)
    for i in range(register_limiter.limit):
        resp = next(apps).test_client().post("/register", data=form(i))
        assert resp.status_code == 302, text_of(resp)[:300]
    resp = next(apps).test_client().post("/register", data=form(99))
    assert resp.status_code == 422 and "注册过于频繁" in text_of(resp)
    assert register_limiter._hits == {}


def test_consultation_posting_limit_holds_across_two_instances(site, small_limits):
    app_a, app_b, _prefix = site
    ask_limiter = small_limits[2]
    with app_a.app_context():
        f = Factory(app_a)
        f.region("220102000000", "南关区")
        user = f.user(name="孙群众")
        mobile = user.mobile
    clients = []
    for app in (app_a, app_b):
        c = app.test_client()
        assert c.post("/login", data={"mobile": mobile, "password": PASSWORD}).status_code == 302
        clients.append(c)
    turns = itertools.cycle(clients)

    def ask(i):
        return next(turns).post("/consultation/ask", data={
            "category": "婚姻家庭", "region_code": "220102000000", "title": f"离婚后孩子抚养费怎么算（{i}）",
            "question": "孩子跟前妻生活，抚养费应该按什么标准给付？我每月收入五千元。", "visibility": "public"})

    for i in range(ask_limiter.limit):
        resp = ask(i)
        assert resp.status_code == 302, text_of(resp)[:300]
    resp = ask(99)
    assert resp.status_code == 422 and "提问过于频繁" in text_of(resp)
    with app_a.app_context():
        from portal.consultation.models import Consultation

        assert db.session.query(Consultation).count() == ask_limiter.limit
    assert ask_limiter._hits == {}


def test_redis_down_fails_open_and_the_account_lock_still_applies(site, small_limits, caplog, monkeypatch):
    from portal import security

    # (while Redis is down each process counts in its own memory; these two share one process)
    monkeypatch.setattr(small_limits[0], "limit", 50)
    app_a, app_b, _prefix = site
    dead = "redis://127.0.0.1:1/0"  # nothing listens there
    for app in (app_a, app_b):
        app.config["RATELIMIT_STORAGE_URL"] = dead
    security._redis_down_until.pop(dead, None)
    with app_a.app_context():
        user = Factory(app_a).user(name="孙群众")
        mobile = user.mobile
    turns = _alternate(app_a, app_b)
    caplog.set_level(logging.WARNING, logger="portal.security")
    max_failures = app_a.config["LOGIN_MAX_FAILURES"]
    for i in range(max_failures):
        resp = next(turns).post("/login", data={"mobile": mobile, "password": "wrong-pass1"})
        assert resp.status_code == 422
        assert "登录尝试过于频繁" not in text_of(resp)  # Redis being down refuses nobody
    assert any("unavailable" in r.getMessage() and "fail open" in r.getMessage() for r in caplog.records)
    # the database's lock on the account holds on both instances, even with the right password
    for client in (next(turns), next(turns)):
        resp = client.post("/login", data={"mobile": mobile, "password": PASSWORD})
        assert resp.status_code == 422 and "锁定" in text_of(resp)
    security._redis_down_until.pop(dead, None)
