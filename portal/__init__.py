"""公共法律服务网 · 在线人民调解: the application factory.

Each feature lives in its own package with an ``init_app(app)`` that registers its blueprint,
Socket.IO handlers, navigation entries, dashboard sections and demo seeders.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from pathlib import Path

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from portal.config import load_config
from portal.extensions import csrf, db, login_manager, migrate, socketio

ROOT = Path(__file__).resolve().parent.parent

#: Feature packages in the order their navigation appears; a package not yet present is skipped.
FEATURES = (
    "portal.main",
    "portal.accounts",
    "portal.places",
    "portal.admin",
    "portal.consultation",
    "portal.mediation",
    "portal.statutes",
    "mediation_room",
    "case_library",
)


class DatabaseIdConverter(IntegerConverter):
    """``int`` in URLs, bounded to what an INTEGER column holds (PostgreSQL: 2**31 - 1)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # Every <int:…> in a URL is a database id: a number beyond the INTEGER range is a 404 here
    # instead of a DataError (a 500) from PostgreSQL. Set before any route is added.
    app.url_map.converters["int"] = DatabaseIdConverter
    app.config.from_mapping(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)
    Path(app.config["INDEX_FOLDER"]).mkdir(parents=True, exist_ok=True)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    app.logger.setLevel(logging.INFO)

    db.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        channel=app.config["SOCKETIO_CHANNEL"],
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        max_http_buffer_size=256 * 1024,
        logger=False,
        engineio_logger=False,
    )

    if app.config["TRUSTED_PROXIES"]:
        # outermost, around the Socket.IO middleware too, so sockets see the client's address
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from portal import models  # noqa: F401  (every table known to metadata, for Alembic)
    from portal.security import set_security_headers
    from portal.uploads import bp as files_bp

    app.register_blueprint(files_bp)
    # PORTAL_FEATURES (comma-separated) switches a deployment down to some features, e.g. a
    # province that runs consultation only; the frame packages always load.
    enabled = os.environ.get("PORTAL_FEATURES")
    wanted = set(enabled.split(",")) | set(FEATURES[:4]) if enabled else set(FEATURES)
    for name in FEATURES:
        if name not in wanted or importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        if hasattr(module, "init_app"):
            module.init_app(app)

    app.after_request(set_security_headers)
    _register_template_helpers(app)

    from portal.cli import register_cli

    register_cli(app)
    return app


def _tune_sqlite(engine) -> None:
    """SQLite in WAL mode: readers do not block the writer, and commits need one fsync less
    (synchronous=NORMAL stays durable at every checkpoint). Measured in bench/room_fanout.py:
    room p99 at 50 clients fell from 2.6 s to 0.45 s. A busy timeout makes concurrent writers wait
    instead of failing."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()


def _register_template_helpers(app: Flask) -> None:
    from flask_login import current_user
    from markupsafe import escape

    from portal.identity import mask_id_number, mask_mobile, mask_name
    from portal.registry import nav_items

    app.jinja_env.filters.update(
        mask_id=mask_id_number, mask_mobile=mask_mobile, mask_name=mask_name, dt=_format_dt
    )
    # Statute citations become links once portal.statutes is present (it replaces this filter);
    # until then cited text is shown escaped, as plain text.
    app.jinja_env.filters.setdefault("link_citations", lambda text: escape(text or ""))

    @app.context_processor
    def frame_context():
        unread = 0
        if current_user.is_authenticated:
            from portal.notifications import unread_count

            unread = unread_count(current_user)
        return {
            "nav_items": nav_items(app),
            "elder_mode": request.cookies.get("elder_mode") == "1",
            "unread_notices": unread,
        }


def _format_dt(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC; citizens read them in Beijing time."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value + dt.timedelta(hours=8)
    return value.strftime(fmt)
