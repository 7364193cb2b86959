"""Who may see and do what with a mediation case. Outsiders get 404 from the views.

Reviewers and administrators do not read dossiers: reviewers see statistics, administrators manage
accounts and places (DESIGN.md §1).
"""
from __future__ import annotations

from portal.accounts.models import Role
from portal.mediation.models import MediationCase
from portal.mediation.states import roles_of


def can_apply(user) -> bool:
    """Any signed-in citizen may apply for mediation."""
    return bool(user and user.is_authenticated and user.has_role(Role.citizen))


def can_view_case(user, case: MediationCase) -> bool:
    """The parties, the case's mediator and the head of its organisation."""
    return bool(roles_of(user, case))


def can_export_case(user, case: MediationCase) -> bool:
    """The dossier export: the same people who may view the case."""
    return can_view_case(user, case)


def can_view_case_files(user, case_id: int) -> bool:
    """Download check for evidence, transcripts and the agreement PDF (portal.uploads)."""
    from portal.extensions import db

    case = db.session.get(MediationCase, case_id)
    return case is not None and can_view_case(user, case)


def is_head_of(user, organisation_id: int) -> bool:
    return bool(user and user.is_authenticated and organisation_id in user.organisation_ids(Role.committee_head))
