"""Shared fixtures: an app on a fresh database per test, a client, login helpers, factories.

The database is SQLite in a temporary folder by default; ``TEST_DATABASE_URL`` (or
``--db=postgres``) runs the same tests on PostgreSQL, each test in its own schema.
"""
from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import uuid

import pytest

from portal import create_app
from portal.accounts.models import ReviewTier, Role
from portal.accounts.operations import create_user
from portal.extensions import db
from portal.identity import make_id_number
from portal.places.models import Organisation, Region, RegionLevel

PASSWORD = "Passw0rd2026"
_seq = itertools.count(1)


def pytest_addoption(parser):
    parser.addoption("--db", default=os.environ.get("TEST_DB", "sqlite"), choices=["sqlite", "postgres"],
                     help="database for the app fixture")


PG_BASE = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _use_postgres(request) -> bool:
    return request.config.getoption("--db") == "postgres"


def _new_pg_schema():
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_BASE)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return schema, f"{PG_BASE}?options=-csearch_path%3D{schema}"


def _drop_pg_schema(schema):
    import sqlalchemy as sa

    engine = sa.create_engine(PG_BASE)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def _pg_session_schema(request):
    """One PostgreSQL schema for the whole run; tables are emptied after each test (fast)."""
    if not _use_postgres(request):
        yield None
        return
    schema, url = _new_pg_schema()
    yield url
    _drop_pg_schema(schema)


@pytest.fixture
def db_url(request, tmp_path, _pg_session_schema):
    if _pg_session_schema:
        yield _pg_session_schema
    else:
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def fresh_db_url(request, tmp_path):
    """An empty database of the selected kind, for tests that build the schema themselves."""
    if _use_postgres(request):
        schema, url = _new_pg_schema()
        yield url
        _drop_pg_schema(schema)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"


@pytest.fixture
def app(tmp_path, db_url):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "FIELD_ENCRYPTION_KEY": "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E=",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "INDEX_FOLDER": str(tmp_path / "index"),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_app(app):
    """The same app with CSRF protection switched back on."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


class Factory:
    """Makes regions, organisations and users with roles; ``make_user(Role.mediator, org=...)``."""

    def __init__(self, app):
        self.app = app

    def region(self, code: str, name: str | None = None, parent: Region | None = None) -> Region:
        existing = db.session.execute(db.select(Region).where(Region.code == code)).scalar_one_or_none()
        if existing:
            return existing
        level = 5 if code[9:] != "000" else 4 if code[6:9] != "000" else 3 if code[4:6] != "00" else 2 if code[2:4] != "00" else 1
        if parent is None and level > 1:
            parent_code = {5: code[:9] + "000", 4: code[:6] + "000000", 3: code[:4] + "00000000", 2: code[:2] + "0000000000"}[level]
            parent = self.region(parent_code)
        r = Region(code=code, name=name or f"地区{code}", level=level, parent_id=parent.id if parent else None)
        db.session.add(r)
        db.session.flush()
        return r

    def organisation(self, name=None, kind="township", region_code="220102001000", dispute_types=None) -> Organisation:
        region = self.region(region_code)
        org = Organisation(name=name or f"测试调委会{next(_seq)}", kind=kind, region_id=region.id)
        org.dispute_types = dispute_types or ["婚姻家庭", "邻里纠纷", "借贷纠纷", "其他"]
        db.session.add(org)
        db.session.flush()
        return org

    def user(self, *roles, org: Organisation | None = None, region: Region | None = None,
             tier: ReviewTier | str | None = None, name: str = "测试用户", mobile: str | None = None):
        n = next(_seq)
        mobile = mobile or f"139{n:08d}"
        id_number = make_id_number("220102", dt.date(1980, 1, 1) + dt.timedelta(days=n), f"{n % 1000:03d}")
        grants = []
        for role in roles:
            role = Role(role)
            grants.append((role, org if role in (Role.mediator, Role.committee_head) else None,
                           region if role in (Role.reviewer, Role.legal_worker) else None,
                           tier if role is Role.reviewer else None))
        user = create_user(mobile, PASSWORD, name, id_number, grants)
        db.session.commit()
        return user


@pytest.fixture
def factory(app):
    return Factory(app)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_mobile, password: str = PASSWORD):
        mobile = getattr(user_or_mobile, "mobile", user_or_mobile)
        return self._client.post("/login", data={"mobile": mobile, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def text_of(response) -> str:
    """The visible text of an HTML response, tags stripped (for asserting on messages)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---- live server and browser (Playwright driving Debian's chromium) -----------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


class LiveServer:
    def __init__(self, app, server, thread):
        self.app, self.server, self.thread = app, server, thread
        self.url = f"http://127.0.0.1:{server.server_port}"

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


def start_live_server(app) -> LiveServer:
    """Serve ``app`` (HTTP and Socket.IO over WebSocket, threading mode) on an ephemeral port."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return LiveServer(app, server, thread)


@pytest.fixture
def live_app(tmp_path):
    """An app on a file SQLite database with CSRF on, as a browser would meet it."""
    app = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "live-secret",
            "FIELD_ENCRYPTION_KEY": "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E=",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "INDEX_FOLDER": str(tmp_path / "index"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def live_server(live_app):
    server = start_live_server(live_app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium is not installed: run scripts/setup.sh with WITH_BROWSER=1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    context.close()
