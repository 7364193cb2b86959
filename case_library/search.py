"""The search index of published cases (on the site's one search component, portal.search).

One combined, unstored text field is searched (the title twice for weight, keywords, all
sections); title and sections are stored for display and highlights; dispute type, region (the
county and the city of the case, so both facets count), level and year are facet columns.
"""
from __future__ import annotations

from whoosh import fields as wf

from case_library.models import SECTIONS, CaseState, ExemplaryCase
from portal.search import IndexFollower, SearchIndex, facet_field, text_field

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


# ---- the index follows the database (portal.search.IndexFollower) ------------------------------
# Operations that publish, withdraw or change a published case call sync_after_commit(case); the
# case is written to the index (published) or removed from it (any other state) when the
# transaction commits: after the commit with Whoosh, inside it with the PostgreSQL backend.

follower = IndexFollower(cases_index, ExemplaryCase, document, lambda c: c.state == CaseState.published,
                         repair="flask cases reindex", label="典型案例")


def sync_after_commit(case: ExemplaryCase) -> None:
    """Bring the index in line with ``case`` when the current transaction commits."""
    follower.mark(case)
