"""Imports every model of the frame and of each present feature, so metadata is complete
(Alembic's autogenerate and ``db.create_all()`` in tests both rely on it)."""
import importlib
import importlib.util

from portal.accounts.models import RoleGrant, User  # noqa: F401
from portal.audit import AuditRecord  # noqa: F401
from portal.notifications import Notification  # noqa: F401
from portal.places.models import Organisation, Region  # noqa: F401
from portal.search_pg_table import search_document  # noqa: F401
from portal.uploads import Attachment  # noqa: F401

for _name in (
    "portal.consultation.models",
    "portal.mediation.models",
    "portal.statutes.models",
    "mediation_room.models",
    "case_library.models",
):
    if importlib.util.find_spec(_name.rsplit(".", 1)[0]) and importlib.util.find_spec(_name):
        importlib.import_module(_name)
