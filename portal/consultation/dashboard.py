"""The 我的事项 section: the asker's questions with their state; a legal worker's claimed ones."""
from flask import render_template

from portal.consultation import permissions as perm
from portal.consultation.models import utcnow
from portal.consultation.operations import asked_by, claimed_by, queue_for, sla_hours


def render_dashboard(user) -> str:
    asked = asked_by(user, limit=10)
    worker = perm.is_legal_worker(user)
    #: A worker's list here is what waits for them: claimed (or reopened by a follow-up), not yet answered.
    pending = claimed_by(user, ("claimed",)) if worker else []
    answered_total = len(claimed_by(user, ("answered", "closed"))) if worker else 0
    queue_total = queue_for(user, 1, 1)[1] if worker else 0
    if not (asked or worker):
        return ""
    return render_template("consultation/_dashboard.html", asked=asked, claimed=pending, worker=worker,
                           queue_total=queue_total, answered_total=answered_total, now=utcnow(), sla=sla_hours())
