"""Who may do what in the statute library. Laws are public texts: anyone, signed in or not, may read
and search them. (Loading is a CLI task of the operator; there is no web route that changes data.)"""
from __future__ import annotations


def can_view_law(user, law) -> bool:
    """Every law in the library is open to everyone (公开的法律法规)."""
    return law is not None
