"""The demo seeder: 60+ published, anonymised cases across types, regions and levels, all
searchable, and cases waiting at every tier of the demo reviewers' chain."""
import re

from sqlalchemy import select

from case_library import operations
from case_library.demo_data import load_demo_cases
from case_library.models import CaseState, ExemplaryCase
from case_library.search import cases_index
from portal.demo import load_frame_demo
from portal.extensions import db


def test_demo_cases(app):
    ctx: dict = {}
    load_frame_demo(ctx)
    db.session.commit()
    load_demo_cases(ctx)
    db.session.commit()
    cases = db.session.execute(select(ExemplaryCase)).scalars().all()
    published = [c for c in cases if c.state == CaseState.published]
    assert len(published) >= 60
    assert len({c.dispute_type for c in published}) >= 10
    assert {c.region.code[:2] for c in published} == {"22", "53"}
    assert {c.level for c in published} == {"county", "city", "province"}
    assert len({c.year for c in published}) >= 5
    for c in published:
        text = "".join(c.section_texts().values())
        assert not re.search(r"\d{17}[\dXx]|1[3-9]\d{9}", text)
        assert "《" in c.legal_basis and "第" in c.legal_basis
    assert cases_index.count() == len(published)
    assert cases_index.search("赡养费").total >= 1
    users = ctx["users"]
    for tier in ("township", "county", "city", "province"):
        assert operations.review_queue(users[f"reviewer_{tier}"]), tier
    waiting = [c for c in cases if c.state == CaseState.in_review]
    assert all("刘德海" not in c.basic_facts and "1390431" not in c.basic_facts for c in waiting)
    assert any(len(c.revisions) == 2 for c in waiting)  # a resubmitted case: the reviewer sees a diff
    assert any(c.state == CaseState.returned for c in cases) and any(c.state == CaseState.draft for c in cases)
    withdrawn = [c for c in cases if c.state == CaseState.unpublished]
    assert withdrawn and withdrawn[0].unpublish_reason and withdrawn[0].region.code == "220102001000"
    assert str(withdrawn[0].id) not in {h.id for h in cases_index.search(withdrawn[0].title, pagelen=100).hits}
