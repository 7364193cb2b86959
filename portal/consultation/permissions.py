"""Who may do what with a consultation. Routes, templates and the file download all ask these."""
from __future__ import annotations

from portal.accounts.models import Role
from portal.places.models import Region


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_admin(user) -> bool:
    return _authenticated(user) and user.has_role(Role.admin)


def is_legal_worker(user) -> bool:
    return _authenticated(user) and user.has_role(Role.legal_worker)


def service_areas(user) -> list[Region]:
    """The regions a legal worker serves (their legal-worker grants' regions)."""
    if not is_legal_worker(user):
        return []
    return [g.region for g in user.grants_for(Role.legal_worker) if g.region is not None]


def serves_region(user, region: Region) -> bool:
    return any(region.is_within(area) for area in service_areas(user))


def is_asker(user, c) -> bool:
    return _authenticated(user) and c.asker_id == user.id


def is_claimer(user, c) -> bool:
    return _authenticated(user) and c.worker_id is not None and c.worker_id == user.id


def can_view(user, c) -> bool:
    """Public questions: anyone. Private ones: the asker, the worker who claimed it, admins."""
    if c.is_public:
        return True
    return is_asker(user, c) or is_claimer(user, c) or is_admin(user)


def can_view_private_parts(user, c) -> bool:
    """The asker's identity and the attachments: never in public view."""
    return is_asker(user, c) or is_claimer(user, c) or is_admin(user)


def can_ask(user) -> bool:
    return _authenticated(user)


def can_claim(user, c) -> bool:
    """A legal worker whose service area contains the question's region (categories only filter
    the queue: a worker may still take a question outside their usual fields). Nobody answers
    their own question."""
    return (c.state == "open" and is_legal_worker(user) and c.asker_id != user.id
            and serves_region(user, c.region))


def can_release(user, c) -> bool:
    return c.state == "claimed" and is_claimer(user, c) and not c.answers


def can_answer(user, c) -> bool:
    return c.state == "claimed" and is_claimer(user, c)


def can_follow_up(user, c) -> bool:
    return c.state == "answered" and is_asker(user, c)


def can_close(user, c) -> bool:
    return c.state == "answered" and is_asker(user, c)


def can_view_queue(user) -> bool:
    return is_legal_worker(user)
