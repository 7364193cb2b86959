"""The search index of published cases (on the site's one search component, portal.search).

One combined, unstored text field is searched (the title twice for weight, keywords, all
sections); title and sections are stored for display and highlights; dispute type, region (the
county and the city of the case, so both facets count), level and year are facet columns.
"""
from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session
from whoosh import fields as wf

from case_library.models import SECTIONS, CaseState, ExemplaryCase
from portal.search import SearchIndex, facet_field, text_field

log = logging.getLogger(__name__)

FACETS = ["dispute_type", "region", "level", "year"]

cases_index = SearchIndex(
    "exemplary_cases",
    {
        "content": text_field(stored=False),
        "title": wf.STORED(),
        "summary": wf.STORED(),
        "body": wf.STORED(),
        "dispute_type": facet_field(),
        "region": facet_field(),
        "region_name": wf.STORED(),
        "level": facet_field(),
        "year": facet_field(),
        "published": facet_field(),
        "featured": facet_field(),
    },
    {"content": 1.0},
)


def facet_region(case: ExemplaryCase):
    """The city (地级) the case belongs to: the region facet groups by city."""
    chain = case.region.ancestors()
    city = next((r for r in chain if r.level == 2), chain[0])
    return city


def document(case: ExemplaryCase) -> dict:
    body = "\n".join(getattr(case, k) or "" for k in SECTIONS)
    city = facet_region(case)
    return {
        "id": str(case.id),
        "content": "\n".join([case.title, case.title, case.keywords or "", body]),
        "title": case.title,
        "summary": (case.basic_facts or "")[:120],
        "body": body,
        "dispute_type": case.dispute_type,
        "region": city.code,
        "region_name": city.full_name,
        "level": case.level or "",
        "year": case.year,
        "published": f"{case.published_at:%Y%m%d%H%M%S}" if case.published_at else "",
        "featured": "1" if case.featured else "0",
    }


def index_case(case: ExemplaryCase) -> None:
    """Write the case to the index now (scripts, rebuilds). Requests use :func:`sync_after_commit`."""
    cases_index.upsert([document(case)])


def unindex_case(case_id) -> None:
    cases_index.delete(case_id)


def reindex_all() -> int:
    from sqlalchemy import select

    from case_library.models import CaseState
    from portal.extensions import db

    cases = db.session.execute(
        select(ExemplaryCase).where(ExemplaryCase.state == CaseState.published)
    ).scalars()
    return cases_index.rebuild(document(c) for c in cases)


# ---- the index follows the database ----------------------------------------------------------
# Operations that publish, withdraw or change a published case call sync_after_commit(case). When
# the session commits, each such case is written to the index (published) or removed from it
# (any other state), AFTER the database commit succeeded: a failed commit or a rollback never
# leaves the index ahead of the database. If the index write fails after the commit, the request
# still succeeds (the database is the truth), the error is logged, and ``flask cases reindex``
# rebuilds the index from the database. The documents are built in ``before_commit`` (they read
# the case's region through the session, which can no longer run SQL after the commit).
# With the PostgreSQL search backend the documents live in the database: they are written inside
# the committing transaction instead, so index and database commit together.

_PENDING = "case_library.index_pending"
_READY = "case_library.index_ready"


def sync_after_commit(case: ExemplaryCase) -> None:
    """Bring the index in line with ``case`` when the current transaction commits."""
    from portal.extensions import db

    db.session.info.setdefault(_PENDING, set()).add(case.id)


def _pg_backend():
    pg = getattr(cases_index, "_pg_backend", None)
    return pg() if pg is not None else None


def apply_index_changes(changes: dict) -> None:
    """``changes``: case id → its index document, or None to remove it."""
    docs = [d for d in changes.values() if d is not None]
    if docs:
        cases_index.upsert(docs)
    for case_id, doc in sorted(changes.items()):
        if doc is None:
            cases_index.delete(case_id)


@event.listens_for(Session, "before_commit")
def _build_documents(session) -> None:
    ids = session.info.pop(_PENDING, None)
    if not ids:
        return
    changes = {}
    for case_id in sorted(ids):
        case = session.get(ExemplaryCase, case_id)
        published = case is not None and case.state == CaseState.published
        changes[case_id] = document(case) if published else None
    if _pg_backend() is not None:
        apply_index_changes(changes)  # in the committing transaction
    else:
        session.info[_READY] = changes


@event.listens_for(Session, "after_commit")
def _write_index(session) -> None:
    changes = session.info.pop(_READY, None)
    if not changes:
        return
    try:
        apply_index_changes(changes)
    except Exception:  # the commit stands; the index is repaired by a rebuild
        log.exception("典型案例检索索引更新失败（案例 %s）；数据库已保存。请运行 `flask cases reindex` 重建索引",
                      ", ".join(str(i) for i in sorted(changes)))


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        session.info.pop(_READY, None)
