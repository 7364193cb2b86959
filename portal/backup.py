"""Backup and restore of the database, the uploaded files and the search indexes (issue 9).

A backup is a folder: ``database.jsonl`` (every row of every table, one JSON object a line, in
foreign-key order), ``uploads/`` and ``index/`` copies, and ``manifest.json`` with row counts and
file checksums. Because rows are written by SQLAlchemy rather than by a database tool, a backup
taken on SQLite restores into PostgreSQL and the other way round (how a pilot moves to scale).
Personal data stays encrypted in the backup (the Fernet key is not in it: keep the key apart).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import Date, DateTime, LargeBinary, func, inspect, select, text

from portal.extensions import db

FORMAT_VERSION = 1


class BackupError(RuntimeError):
    pass


def _encode(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _decoder(column):
    if isinstance(column.type, DateTime):
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(column.type, Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if isinstance(column.type, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    return lambda v: v


def _tree_checksums(root: Path) -> dict[str, str]:
    sums = {}
    if root.exists():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            sums[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def create_backup(dest: str | Path) -> dict:
    """Write a backup into the new folder ``dest``; returns the manifest."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"备份目录 {dest} 已存在且非空")
    dest.mkdir(parents=True, exist_ok=True)
    counts = {}
    with open(dest / "database.jsonl", "w", encoding="utf-8") as out:
        for table in db.metadata.sorted_tables:
            if not inspect(db.engine).has_table(table.name):
                continue
            pk = list(table.primary_key.columns)
            n = 0
            for row in db.session.execute(select(table).order_by(*pk)).mappings():
                out.write(json.dumps({"t": table.name, "r": {k: _encode(v) for k, v in row.items()}},
                                     ensure_ascii=False) + "\n")
                n += 1
            counts[table.name] = n
    cfg = current_app.config
    for name, folder in (("uploads", cfg["UPLOAD_FOLDER"]), ("index", cfg["INDEX_FOLDER"])):
        src = Path(folder)
        if src.exists():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("*.lock", "*_LOCK"))
        else:
            (dest / name).mkdir()
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "database": db.engine.dialect.name,
        "rows": counts,
        "files": {"uploads": _tree_checksums(dest / "uploads"), "index": _tree_checksums(dest / "index")},
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def verify_backup(src: str | Path) -> dict:
    src = Path(src)
    try:
        manifest = json.loads((src / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"备份清单缺失或损坏：{exc}") from None
    for part in ("uploads", "index"):
        if _tree_checksums(src / part) != manifest["files"][part]:
            raise BackupError(f"备份中的 {part} 文件与清单不符（文件缺失或被改动）")
    return manifest


def restore_backup(src: str | Path) -> dict:
    """Restore a backup into the configured database (its tables must exist and be empty) and
    the configured upload and index folders (which must be empty). Returns the manifest."""
    src = Path(src)
    manifest = verify_backup(src)
    for table in db.metadata.sorted_tables:
        if inspect(db.engine).has_table(table.name) and db.session.scalar(select(func.count()).select_from(table)):
            raise BackupError(f"目标数据库的表 {table.name} 不是空的，恢复只能在空库上进行")
    tables = {t.name: t for t in db.metadata.sorted_tables}
    decoders = {name: {c.name: _decoder(c) for c in t.columns} for name, t in tables.items()}
    batch: dict[str, list] = {}

    def flush():
        for name in [t.name for t in db.metadata.sorted_tables]:
            rows = batch.pop(name, None)
            if rows:
                db.session.execute(tables[name].insert(), rows)

    with open(src / "database.jsonl", encoding="utf-8") as fh:
        last = None
        for line in fh:
            item = json.loads(line)
            name = item["t"]
            if name not in tables:
                raise BackupError(f"备份中有本版本不认识的表 {name}")
            if last is not None and name != last:
                flush()
            last = name
            dec = decoders[name]
            batch.setdefault(name, []).append({k: dec[k](v) for k, v in item["r"].items() if k in dec})
            if len(batch[name]) >= 1000:
                flush()
        flush()
    if db.engine.dialect.name == "postgresql":
        for table in tables.values():
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and pk[0].autoincrement is not False and str(pk[0].type) == "INTEGER":
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                    f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))
    db.session.commit()
    cfg = current_app.config
    for name, folder in (("uploads", cfg["UPLOAD_FOLDER"]), ("index", cfg["INDEX_FOLDER"])):
        target = Path(folder)
        if target.exists() and any(target.iterdir()):
            if name == "index":
                shutil.rmtree(target)  # an empty index made at start-up; the backup's replaces it
            else:
                raise BackupError(f"目标目录 {target} 不是空的")
        shutil.copytree(src / name, target, dirs_exist_ok=True)
    return manifest
