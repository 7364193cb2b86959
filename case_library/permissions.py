"""Who may do what with an exemplary case: one ``can_<verb>(user, case)`` per action."""
from __future__ import annotations

from case_library.models import CaseState, ExemplaryCase
from portal.accounts.models import ReviewTier, Role


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def can_author(user) -> bool:
    """Mediators write up cases."""
    return _authenticated(user) and user.has_role(Role.mediator)


def review_grants(user, tier: ReviewTier | str | None = None) -> list:
    """The user's reviewer grants (optionally of one tier) that name a jurisdiction."""
    if not _authenticated(user):
        return []
    return [g for g in user.grants_for(Role.reviewer)
            if g.region is not None and g.tier and (tier is None or g.tier == str(tier))]


def in_jurisdiction(user, case: ExemplaryCase, tier: ReviewTier | str | None = None) -> bool:
    return any(case.region.is_within(g.region) for g in review_grants(user, tier))


def can_view(user, case: ExemplaryCase) -> bool:
    """Published cases are public; others only for their author and reviewers of the region."""
    if case.state == CaseState.published:
        return True
    if not _authenticated(user):
        return False
    if case.author_id == user.id or user.has_role(Role.admin):
        return True
    if case.state == CaseState.draft:
        return False
    return in_jurisdiction(user, case)


def can_edit(user, case: ExemplaryCase) -> bool:
    return (_authenticated(user) and case.author_id == user.id
            and case.state in (CaseState.draft, CaseState.returned))


can_submit = can_edit


def can_review(user, case: ExemplaryCase) -> bool:
    """A reviewer of the tier the case waits at, whose jurisdiction contains the case's region."""
    return (case.state == CaseState.in_review and case.current_tier is not None
            and in_jurisdiction(user, case, case.current_tier))


def can_unpublish(user, case: ExemplaryCase) -> bool:
    """The publishing tier (or a higher one) of the case's region, or an administrator."""
    return case.state == CaseState.published and _publisher(user, case)


def can_republish(user, case: ExemplaryCase) -> bool:
    """Whoever may withdraw a case may publish it again once withdrawn."""
    return case.state == CaseState.unpublished and _publisher(user, case)


def _publisher(user, case: ExemplaryCase) -> bool:
    if not _authenticated(user):
        return False
    if user.has_role(Role.admin):
        return True
    order = list(ReviewTier)
    floor = order.index(ReviewTier(case.level)) if case.level else 0
    return any(case.region.is_within(g.region) and order.index(ReviewTier(g.tier)) >= floor
               for g in review_grants(user))


def can_feature(user, case: ExemplaryCase) -> bool:
    return can_unpublish(user, case)


def can_manage_chains(user) -> bool:
    """Review chains are configured by administrators."""
    return _authenticated(user) and user.has_role(Role.admin)
