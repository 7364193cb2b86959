"""Fixtures of the statute tests: all 27 law files are loaded ONCE per session into a template SQLite
file (and its search index), which is copied for each test; mark a test ``no_laws`` for an empty
database. On PostgreSQL (``--db=postgres``) the laws are loaded into each test's schema instead."""
from __future__ import annotations

import shutil

import pytest

from portal import create_app
from portal.extensions import db

TEMPLATE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "FIELD_ENCRYPTION_KEY": "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E=",
    "WTF_CSRF_ENABLED": False,
}


def pytest_configure(config):
    config.addinivalue_line("markers", "no_laws: start from a database without the law texts")


@pytest.fixture(scope="session")
def statute_template(tmp_path_factory):
    """(sqlite file, index folder) with every law loaded and indexed."""
    from portal.statutes.operations import load_laws, reindex_articles

    base = tmp_path_factory.mktemp("statute_template")
    app = create_app({**TEMPLATE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'laws.sqlite3'}",
                      "UPLOAD_FOLDER": str(base / "uploads"), "INDEX_FOLDER": str(base / "index")})
    with app.app_context():
        db.create_all()
        report = load_laws(None)
        assert not report.errors, report.errors
        db.session.commit()
        reindex_articles()
        db.session.remove()
        db.engine.dispose()
    return base / "laws.sqlite3", base / "index" / "statutes"


def _wants_laws(request) -> bool:
    return request.node.get_closest_marker("no_laws") is None


@pytest.fixture
def db_url(db_url, request, tmp_path):
    """The frame's per-test database, pre-filled from the template (SQLite)."""
    if _wants_laws(request):
        template_db, template_index = request.getfixturevalue("statute_template")
        # The index is the template's on both databases: a fresh database numbers the articles
        # the same way, so the ids in the index match.
        shutil.copytree(template_index, tmp_path / "index" / "statutes")
        if db_url.startswith("sqlite"):
            shutil.copyfile(template_db, tmp_path / "test.sqlite3")
    yield db_url


@pytest.fixture
def app(app, db_url, request):
    if not db_url.startswith("sqlite") and _wants_laws(request):
        from portal.statutes.operations import load_laws

        load_laws(None)
        db.session.commit()
        if app.config.get("SEARCH_BACKEND") == "postgres":  # the index is in the database, not the copied folder
            from portal.statutes.operations import reindex_articles

            reindex_articles()
    return app


@pytest.fixture
def _live_copy(request, tmp_path):
    template_db, template_index = request.getfixturevalue("statute_template")
    shutil.copyfile(template_db, tmp_path / "live.sqlite3")
    shutil.copytree(template_index, tmp_path / "index" / "statutes")


@pytest.fixture
def live_app(_live_copy, live_app):
    """The frame's live app, on a copy of the loaded template."""
    return live_app


@pytest.fixture
def laws(app):
    """name → Law of the loaded library."""
    from sqlalchemy import select

    from portal.statutes.models import Law

    return {law.short_name: law for law in db.session.execute(select(Law)).scalars()}
