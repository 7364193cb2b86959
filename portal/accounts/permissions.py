"""Who may do what with accounts and the site's reference data."""
from portal.accounts.models import Role


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role(Role.admin))


def can_manage_accounts(user) -> bool:
    return is_admin(user)


def can_manage_places(user) -> bool:
    return is_admin(user)
