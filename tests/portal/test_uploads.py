"""Files belong to the transaction that stores their row (portal.uploads, portal.transactions)."""
from pathlib import Path

from portal.extensions import db
from portal.uploads import Attachment, attachment_path, store_generated


def _files(app) -> set[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_generated_file_is_deleted_when_its_transaction_rolls_back(app):
    with app.app_context():
        before = _files(app)
        att = store_generated("mediation_case", 1, "调解笔录正文".encode(), "调解笔录_1.txt", "text/plain", "txt")
        db.session.flush()
        written = attachment_path(att)
        assert written.read_text() == "调解笔录正文"
        db.session.rollback()
        assert not written.exists()
        assert _files(app) == before
        assert db.session.query(Attachment).count() == 0


def test_generated_file_stays_when_its_transaction_commits(app):
    with app.app_context():
        att = store_generated("mediation_case", 1, "调解笔录正文".encode(), "调解笔录_1.txt", "text/plain", "txt")
        db.session.commit()
        stored = db.session.get(Attachment, att.id)
        assert attachment_path(stored).read_bytes() == "调解笔录正文".encode()
        assert stored.content_type == "text/plain" and stored.size == len("调解笔录正文".encode())
        db.session.rollback()  # a later rollback does not touch a committed file
        assert attachment_path(stored).exists()
