"""Statute library (法律法规库, issue 10): laws by category, article pages, article search, and the
``link_citations`` filter that turns citations anywhere on the site into links with a hover popover."""
from __future__ import annotations

import click
from flask import Blueprint

bp = Blueprint("statutes", __name__, url_prefix="/laws")


def init_app(app):
    from portal.registry import add_demo_seeder, add_nav
    from portal.statutes import routes  # noqa: F401  (registers the views on bp)
    from portal.statutes.citations import link_citations

    app.register_blueprint(bp)
    app.jinja_env.filters["link_citations"] = link_citations
    add_nav(app, "法律法规", "statutes.index", 40)
    add_demo_seeder(app, "法律法规库", _demo_load, 10)
    _register_cli(app)


def _demo_load(ctx: dict) -> None:
    """Demo seeder (order 10, runs first): load every law of data/laws/ and build the index."""
    from portal.extensions import db
    from portal.statutes.operations import load_laws, reindex_articles

    report = load_laws(None)
    db.session.commit()
    reindex_articles()
    ctx["statutes"] = report
    for err in report.errors:
        click.echo(f"法律法规导入错误：{err}", err=True)


def _register_cli(app):
    @app.cli.group()
    def statutes():
        """法律法规库"""

    @statutes.command("load")
    @click.option("--folder", type=click.Path(exists=True, file_okay=False), default=None,
                  help="法律文本目录（默认 data/laws）")
    def load_command(folder):
        """Load (or update) the law texts; unchanged files are left as they are."""
        from portal.extensions import db
        from portal.statutes.operations import index_in_step, load_laws, reindex_articles

        report = load_laws(None, root=folder)
        db.session.commit()
        for err in report.errors:
            click.echo(f"错误 {err}", err=True)
        click.echo(f"新增 {len(report.added)} 部，更新 {len(report.updated)} 部，未变 {len(report.unchanged)} 部，"
                   f"错误 {len(report.errors)} 处")
        if report.changed or not index_in_step():
            click.echo(f"已重建条文索引：{reindex_articles()} 条")
        else:
            click.echo("条文索引已是最新")
        if report.errors:
            raise SystemExit(1)

    @statutes.command("reindex")
    def reindex_command():
        """Rebuild the article search index from the database."""
        from portal.statutes.operations import reindex_articles

        click.echo(f"已重建条文索引：{reindex_articles()} 条")
