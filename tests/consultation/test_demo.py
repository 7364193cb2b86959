"""The demo seeder: at least 40 answered public questions across the categories, a few open ones,
every text within the limits, and the answers searchable at once."""
from sqlalchemy import select

from portal.consultation import indexing
from portal.consultation.demo import load_demo
from portal.consultation.models import CATEGORIES, Consultation
from portal.demo import load_frame_demo
from portal.extensions import db


def test_demo_loads_answered_and_open_questions(app):
    ctx: dict = {}
    load_frame_demo(ctx)
    db.session.commit()
    load_demo(ctx)
    db.session.commit()
    rows = db.session.execute(select(Consultation)).scalars().all()
    answered = [c for c in rows if c.is_public and c.first_answered_at is not None]
    assert len(answered) >= 40
    assert {c.category for c in answered} == set(CATEGORIES)
    assert {c.worker_id for c in answered} == {ctx["users"]["legal_worker"].id}
    assert {c.asker_id for c in rows} == {ctx["users"]["citizen"].id, ctx["users"]["citizen_b"].id}
    assert all(c.region.code.startswith("2201") for c in rows)
    assert sum(c.state == "open" for c in rows) >= 3
    assert any(c.state == "closed" and c.rating for c in rows)
    assert indexing.INDEX.count() == len(answered)
    assert indexing.search("彩礼").hits[0].fields["title"] == "订婚后分手，彩礼能要回来吗"
