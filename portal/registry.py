"""Extension points through which feature packages plug into the site frame without the frame
importing them: header navigation, the 我的事项 dashboard, and the demo-data command.

Each feature's ``init_app`` registers what it offers; the frame only iterates the registries.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    order: int


@dataclass(frozen=True)
class DashboardSection:
    """A block on 我的事项: ``render(user)`` returns HTML (a rendered template) or "" to hide it."""

    key: str
    order: int
    render: Callable


@dataclass(frozen=True)
class DemoSeeder:
    """``load(ctx)`` adds a feature's demo records; ``ctx`` is a dict shared by all seeders."""

    name: str
    order: int
    load: Callable


def _registry(app, key):
    return app.extensions.setdefault("portal_registry", {}).setdefault(key, [])


def add_nav(app, label: str, endpoint: str, order: int) -> None:
    _registry(app, "nav").append(NavItem(label, endpoint, order))


def nav_items(app) -> list[NavItem]:
    return sorted(_registry(app, "nav"), key=lambda n: n.order)


def add_dashboard_section(app, key: str, render: Callable, order: int) -> None:
    _registry(app, "dashboard").append(DashboardSection(key, order, render))


def dashboard_sections(app) -> list[DashboardSection]:
    return sorted(_registry(app, "dashboard"), key=lambda d: d.order)


def add_demo_seeder(app, name: str, load: Callable, order: int) -> None:
    _registry(app, "demo").append(DemoSeeder(name, order, load))


def demo_seeders(app) -> list[DemoSeeder]:
    return sorted(_registry(app, "demo"), key=lambda d: d.order)
