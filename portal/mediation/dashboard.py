"""我的事项: the citizen's cases as applicant and respondent, and the queues of heads and mediators."""
from __future__ import annotations

from flask import render_template
from sqlalchemy import or_, select

from portal.accounts.models import Role
from portal.extensions import db
from portal.mediation.models import CaseState, MediationCase, Respondent
from portal.places.models import Organisation, Region

OPEN_STATES = (CaseState.submitted, CaseState.awaiting_consent, CaseState.in_mediation, CaseState.agreement_pending)


def cases_for(user) -> dict:
    if user is None or not user.is_authenticated:
        return {}
    as_applicant = db.session.execute(
        select(MediationCase).where(MediationCase.applicant_id == user.id).order_by(MediationCase.id.desc())
    ).scalars().all()
    as_respondent = db.session.execute(
        select(MediationCase).join(Respondent).where(Respondent.user_id == user.id).order_by(MediationCase.id.desc())
    ).scalars().unique().all()
    head_orgs = user.organisation_ids(Role.committee_head)
    head_queue = []
    if head_orgs:
        rows = db.session.execute(
            select(MediationCase).where(
                MediationCase.organisation_id.in_(head_orgs),
                or_(MediationCase.state == CaseState.submitted,
                    MediationCase.state.in_([s.value for s in OPEN_STATES]))
            ).order_by(MediationCase.created_at)
        ).scalars().all()
        # Overdue first, then what needs the head (acceptance, assignment), oldest first.
        def needs_head(c):
            return c.state == CaseState.submitted or (c.state == CaseState.in_mediation and c.mediator_id is None)
        head_queue = sorted(rows, key=lambda c: (c.overdue() is None, not needs_head(c), c.created_at))
    mediating = db.session.execute(
        select(MediationCase).where(MediationCase.mediator_id == user.id,
                                    MediationCase.state != CaseState.archived)
        .order_by(MediationCase.mediation_due)
    ).scalars().all()
    return {"as_applicant": as_applicant, "as_respondent": as_respondent, "head_queue": head_queue,
            "mediating": mediating, "overdue_in_jurisdiction": overdue_in_jurisdiction(user)}


def overdue_in_jurisdiction(user) -> list[MediationCase]:
    """Overdue open cases of organisations in a reviewer's jurisdiction (DESIGN.md §3: flagged
    to the reviewer above). Reviewers see the list, not the dossiers."""
    prefixes = [g.region.code_prefix for g in user.grants_for(Role.reviewer) if g.region is not None]
    if not prefixes:
        return []
    rows = db.session.execute(
        select(MediationCase).join(Organisation, MediationCase.organisation_id == Organisation.id)
        .join(Region, Organisation.region_id == Region.id)
        .where(MediationCase.state.in_([s.value for s in OPEN_STATES]),
               or_(*[Region.code.startswith(p) for p in prefixes]))
        .order_by(MediationCase.created_at)
    ).scalars().all()
    return [c for c in rows if c.overdue()]


def render_section(user) -> str:
    lists = cases_for(user)
    if not any(lists.values()):
        return ""
    return render_template("mediation/_section.html", lists=lists)
