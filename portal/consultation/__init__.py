"""法律咨询: citizens ask, legal workers claim and answer, citizens follow up, close and rate;
public answers are browsed and searched (issue 3, DESIGN.md §4)."""
import os

import click
from flask import Blueprint

bp = Blueprint("consultation", __name__, url_prefix="/consultation")


def init_app(app):
    from portal.consultation import indexing, routes  # noqa: F401  (registers the views on bp)
    from portal.consultation.dashboard import render_dashboard
    from portal.consultation.demo import load_demo
    from portal.registry import add_dashboard_section, add_demo_seeder, add_nav
    from portal.uploads import register_owner

    app.config.setdefault("CONSULTATION_SLA_HOURS", float(os.environ.get("CONSULTATION_SLA_HOURS") or 5))
    app.register_blueprint(bp)
    indexing.listen()
    add_nav(app, "法律咨询", "consultation.index", 10)
    add_dashboard_section(app, "consultation", render_dashboard, 10)
    add_demo_seeder(app, "法律咨询", load_demo, 20)
    register_owner("consultation", _can_view_files)

    @app.cli.group("consultation")
    def consultation_cli():
        """法律咨询"""

    @consultation_cli.command("reindex")
    def reindex():
        """Rebuild the search index of public answered consultations from the database."""
        count = indexing.rebuild()
        click.echo(f"已重建法律咨询索引：{count} 条")


def _can_view_files(user, owner_id: int) -> bool:
    """Attachments may carry personal data: only the asker, the claiming worker and admins."""
    from portal.consultation.models import Consultation
    from portal.consultation.permissions import can_view_private_parts
    from portal.extensions import db

    c = db.session.get(Consultation, owner_id)
    return c is not None and can_view_private_parts(user, c)
