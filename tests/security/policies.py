"""Entries of the authorization matrix, one per endpoint; see tests/security/authz.py."""
from sqlalchemy import select

from portal.extensions import db
from tests.security.authz import EVERYONE, LOGGED_IN, Policy, logged_in, only, public


def _user_id(mobile: str) -> dict:
    from portal.accounts.models import User

    return db.session.execute(select(User.id).where(User.mobile == mobile)).scalar_one()


def _org_id() -> dict:
    from portal.places.models import Organisation

    return {"org_id": db.session.execute(select(Organisation.id).order_by(Organisation.id)).scalars().first()}


POLICIES: dict[str, Policy] = {
    # ---- the frame ---------------------------------------------------------------------------
    "main.index": public(),
    "main.healthz": public(),
    "main.dashboard": logged_in(),
    "main.inbox": logged_in(),
    "main.read_notice": logged_in(params=lambda: {"notice_id": 1},
                                  note="a notice that is not yours gives 404; tested in tests/portal"),
    "main.toggle_elder_mode": public(),
    "accounts.register": public(note="a logged-in user is sent to 我的事项"),
    "accounts.login": public(),
    "accounts.logout": logged_in(),
    "accounts.account": logged_in(),
    "places.roots": public(),
    "places.children": public(params=lambda: {"code": "220100000000"}),
    "places.show": public(params=lambda: {"code": "220102001000"}),
    "files.download": Policy(set(), params=lambda: {"attachment_id": 1},
                             note="files are served only to whom their owner's permission function allows; "
                                  "the first demo file is evidence of a mediation case; see feature tests"),
    "admin.index": only("admin"),
    "admin.users": only("admin"),
    "admin.user_detail": only("admin", params=lambda: {"user_id": 1}),
    "admin.revoke": only("admin", params=lambda: {"user_id": 1, "grant_id": 1}),
    "admin.toggle_active": only("admin", params=lambda: {"user_id": 1}),
    "admin.organisations": only("admin"),
    "admin.new_organisation": only("admin"),
    "admin.edit_organisation": only("admin", params=_org_id),
    "admin.regions": only("admin", params=lambda: {}),
}

#: Socket.IO events: (namespace, event) → roles that may use it in the demo room.
EVENT_POLICIES: dict[tuple[str, str], set[str]] = {}

__all__ = ["POLICIES", "EVENT_POLICIES", "EVERYONE", "LOGGED_IN"]
