"""The audit hash chain, the migrations against the models, and the demo data command."""
import subprocess
import sys

from sqlalchemy import create_engine, select, text

from portal.audit import AuditRecord, record, trail_for, verify_chain
from portal.extensions import db


def test_audit_chain_verifies_and_detects_tampering(app, factory):
    user = factory.user()
    for i in range(5):
        record(user, "mediation.accept", "mediation_case", i, reason=f"理由{i}")
    db.session.commit()
    count, bad, _ = verify_chain()
    assert bad is None and count == 5
    assert [r.object_id for r in trail_for("mediation_case", 3)] == ["3"]
    # Someone edits a row behind the application's back.
    db.session.execute(text("UPDATE audit_record SET detail = '{\"reason\": \"改过\"}' WHERE id = 3"))
    db.session.commit()
    db.session.expire_all()
    count, bad, why = verify_chain()
    assert bad.id == 3 and count == 2 and "篡改" in why


def test_audit_chain_detects_a_deleted_row(app, factory):
    user = factory.user()
    for i in range(4):
        record(user, "x.y", "thing", i)
    db.session.commit()
    db.session.execute(text("DELETE FROM audit_record WHERE id = 2"))
    db.session.commit()
    db.session.expire_all()
    _, bad, why = verify_chain()
    assert bad.id == 3 and "删除" in why


def test_audit_verify_cli(app, factory):
    user = factory.user()
    record(user, "x.y", "thing", 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "审计链完整" in result.output
    db.session.execute(text("UPDATE audit_record SET action = 'forged'"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1


def test_migrations_build_the_schema_the_models_describe(app, tmp_path, fresh_db_url):
    """`flask db upgrade heads` on an empty database (SQLite, or a fresh PostgreSQL schema with
    --db=postgres), then compare with the models: no difference. (``app`` is requested so that
    every feature's models are imported into the metadata, as create_app does.)"""
    import os

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = fresh_db_url
    env = dict(os.environ, FLASK_APP="wsgi.py", DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "inst"))
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade", "heads"], env=env, check=True,
                   capture_output=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), db.metadata)
    assert diff == [], diff


def test_demo_load_gives_every_role_and_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "13800000010" in first.output and "Demo2026" in first.output
    from portal.accounts.models import Role, User

    users = db.session.scalars(select(User)).all()
    roles = {r for u in users for r in u.roles}
    assert roles == set(Role)
    second = runner.invoke(args=["demo", "load"])
    assert "已存在" in second.output
    assert db.session.scalar(select(db.func.count(User.id))) == len(users)
    assert db.session.scalar(select(db.func.count(AuditRecord.id))) > 0
