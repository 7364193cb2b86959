"""典型案例库: anonymised write-ups of mediated cases, tiered review, public search (DESIGN.md §5)."""
from flask import Blueprint

bp = Blueprint("case_library", __name__, url_prefix="/cases")


def init_app(app):
    import click

    from case_library import (
        models,  # noqa: F401
        routes,
    )
    from portal.registry import add_dashboard_section, add_demo_seeder, add_nav

    app.register_blueprint(bp)
    add_nav(app, "典型案例", "case_library.index", 30)
    add_dashboard_section(app, "case_library", routes.dashboard_section, 50)

    def load_demo(ctx):
        from case_library.demo_data import load_demo_cases

        load_demo_cases(ctx)

    add_demo_seeder(app, "典型案例", load_demo, 50)

    @app.cli.group("cases")
    def cases_cli():
        """典型案例库"""

    @cases_cli.command("reindex")
    def reindex():
        """Rebuild the search index of published cases."""
        from case_library.search import reindex_all

        n = reindex_all()
        click.echo(f"已重建典型案例索引：{n} 件")
