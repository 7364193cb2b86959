"""Backup and restore: every record, file and search hit comes back in a fresh installation."""
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal import create_app
from portal.accounts.models import User
from portal.audit import AuditRecord, record, verify_chain
from portal.backup import BackupError, create_backup, restore_backup
from portal.extensions import db
from portal.search import SearchIndex, facet_field, text_field
from portal.uploads import PDF_TYPES, Attachment, attachment_path, save_upload

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOTES = SearchIndex("backup_test", {"title": text_field(boost=2.0), "body": text_field(), "kind": facet_field()},
                    {"title": 2.0, "body": 1.0})


def test_backup_and_restore_into_a_fresh_installation(app, factory, tmp_path):
    users = [factory.user(name=f"用户{i}") for i in range(3)]
    for u in users:
        record(u, "account.test", "user", u.id, note="备份测试")
    att = save_upload(FileStorage(io.BytesIO(PDF), "证据.pdf"), "test_owner", 1, users[0], PDF_TYPES)
    NOTES.upsert([{"id": "1", "title": "宅基地纠纷调解", "body": "邻里之间因宅基地边界发生争执", "kind": "邻里纠纷"}])
    db.session.commit()
    user_count = db.session.scalar(select(func.count(User.id)))
    audit_count = db.session.scalar(select(func.count(AuditRecord.id)))

    manifest = create_backup(tmp_path / "bk")
    assert manifest["rows"]["user_account"] == user_count
    with pytest.raises(BackupError, match="非空"):
        create_backup(tmp_path / "bk")

    fresh = create_app({
        "TESTING": True, "SECRET_KEY": "x", "FIELD_ENCRYPTION_KEY": app.config["FIELD_ENCRYPTION_KEY"],
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "UPLOAD_FOLDER": str(tmp_path / "fresh-uploads"), "INDEX_FOLDER": str(tmp_path / "fresh-index"),
    })
    with fresh.app_context():
        db.create_all()
        restore_backup(tmp_path / "bk")
        assert db.session.scalar(select(func.count(User.id))) == user_count
        assert db.session.scalar(select(func.count(AuditRecord.id))) == audit_count
        assert verify_chain()[1] is None
        restored = db.session.get(Attachment, att.id)
        assert attachment_path(restored).read_bytes() == PDF
        # Encrypted personal data is readable with the same key.
        assert db.session.get(User, users[0].id).id_number == users[0].id_number
        hits = NOTES.search("宅基地")
        assert hits.total == 1 and hits.hits[0].id == "1"
        with pytest.raises(BackupError, match="不是空的"):
            restore_backup(tmp_path / "bk")
        db.session.remove()


def test_a_tampered_backup_is_refused(app, factory, tmp_path):
    user = factory.user()
    save_upload(FileStorage(io.BytesIO(PDF), "a.pdf"), "test_owner", 1, user, PDF_TYPES)
    db.session.commit()
    create_backup(tmp_path / "bk")
    victim = next((tmp_path / "bk" / "uploads").rglob("*.pdf"))
    victim.write_bytes(b"%PDF-1.4 altered")
    with pytest.raises(BackupError, match="与清单不符"):
        restore_backup(tmp_path / "bk")


def test_backup_cli(app, factory, tmp_path):
    factory.user()
    result = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "cli-bk")])
    assert result.exit_code == 0 and "备份完成" in result.output
