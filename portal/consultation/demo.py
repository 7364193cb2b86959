"""Demo consultations (seeder order 20): answered public questions from demo_data, and a few open
ones, asked by the demo citizens in 长春市 and answered by the demo legal worker."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from portal.consultation import demo_data
from portal.consultation.models import Consultation, ConsultationMessage, utcnow
from portal.consultation.operations import (
    answer_consultation,
    ask_question,
    claim_consultation,
    close_consultation,
    follow_up_consultation,
)
from portal.extensions import db
from portal.notifications import Notification
from portal.places.operations import region_by_code

REGION_CODES = ("220102001000", "220102001201", "220102002000", "220102003000", "220104003000",
                "220105001000", "220102001202", "220104001000")


def _region(i: int):
    for code in REGION_CODES[i % len(REGION_CODES):] + REGION_CODES:
        r = region_by_code(code)
        if r is not None:
            return r
    raise RuntimeError("演示地区未导入")


def _backdate(c: Consultation, asked: dt.datetime, answered: dt.datetime | None, closed: dt.datetime | None):
    values = {"created_at": asked, "waiting_since": asked}
    if answered:
        values.update(claimed_at=answered - dt.timedelta(minutes=40), first_answered_at=answered,
                      answered_at=answered)
    if closed:
        values["closed_at"] = closed
    db.session.execute(update(Consultation).where(Consultation.id == c.id).values(**values))
    if answered:
        db.session.execute(update(ConsultationMessage).where(ConsultationMessage.consultation_id == c.id)
                           .values(created_at=answered))
    db.session.expire(c)


def load_demo(ctx: dict) -> None:
    users = ctx["users"]
    worker = users["legal_worker"]
    askers = [users["citizen"], users["citizen_b"]]
    now = utcnow()
    made = []
    for i, item in enumerate(demo_data.ANSWERED):
        asker = askers[i % 2]
        c = ask_question(asker, category=item["category"], region=_region(i), title=item["title"],
                         question=item["question"], is_public=True)
        claim_consultation(worker, c)
        answer_consultation(worker, c, item["answer"])
        asked = now - dt.timedelta(days=58 - i, hours=(i * 7) % 11 + 1)
        answered = asked + dt.timedelta(hours=1 + (i % 4), minutes=(i * 13) % 50)
        closed = None
        if item.get("follow_up"):
            follow_up_consultation(asker, c, item["follow_up"])
            answer_consultation(worker, c, item["follow_up_answer"])
        if item.get("rating"):
            close_consultation(asker, c, item["rating"], item.get("comment", ""))
            closed = answered + dt.timedelta(days=1)
        _backdate(c, asked, answered, closed)
        made.append(c)
    for j, item in enumerate(demo_data.OPEN):
        c = ask_question(askers[j % 2], category=item["category"], region=_region(j + 3), title=item["title"],
                         question=item["question"], is_public=item.get("public", True))
        asked = now - dt.timedelta(hours=item.get("hours_ago", 1))
        _backdate(c, asked, None, None)
        made.append(c)
    # The demo's history is old news: its notices are shown as already read.
    db.session.execute(update(Notification).where(Notification.link.like("/consultation/%"),
                                                  Notification.read_at.is_(None)).values(read_at=now))
    ctx["consultations"] = made
