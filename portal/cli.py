"""Command-line tools: ``flask demo load``, ``flask regions load``, ``flask audit verify``."""
import click
from flask import current_app
from sqlalchemy import select

from portal.extensions import db


def register_cli(app):
    @app.cli.group()
    def demo():
        """演示数据"""

    @demo.command("load")
    def demo_load():
        """Load demo data into an empty database (does nothing when it is there already)."""
        from portal.accounts.models import User
        from portal.demo import DEMO_ACCOUNTS, demo_account_lines, load_frame_demo
        from portal.registry import demo_seeders

        admin_mobile = DEMO_ACCOUNTS["admin"][0]
        if db.session.execute(select(User.id).where(User.mobile == admin_mobile)).first():
            click.echo("演示数据已存在，未重复导入。")
        else:
            ctx: dict = {}
            load_frame_demo(ctx)
            db.session.commit()
            for seeder in demo_seeders(current_app):
                seeder.load(ctx)
                db.session.commit()
                click.echo(f"已导入演示数据：{seeder.name}")
            click.echo("演示数据导入完成。")
        click.echo("演示账号：")
        for line in demo_account_lines():
            click.echo(line)

    @app.cli.group()
    def regions():
        """行政区划"""

    @regions.command("load")
    def regions_load():
        from portal.places.operations import load_regions

        added = load_regions()
        db.session.commit()
        click.echo(f"新增行政区划 {added} 个")

    @app.cli.group()
    def backup():
        """备份与恢复"""

    @backup.command("create")
    @click.argument("dest")
    def backup_create(dest):
        """Back up the database, uploads and search indexes into the new folder DEST."""
        from portal.backup import BackupError, create_backup

        try:
            manifest = create_backup(dest)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"备份完成：{sum(manifest['rows'].values())} 行数据，"
                   f"{len(manifest['files']['uploads'])} 个上传文件 → {dest}")

    @backup.command("restore")
    @click.argument("src")
    def backup_restore(src):
        """Restore SRC into the configured (empty, migrated) database and folders."""
        from portal.backup import BackupError, restore_backup

        try:
            manifest = restore_backup(src)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"恢复完成：{sum(manifest['rows'].values())} 行数据")

    @app.cli.group()
    def audit():
        """审计日志"""

    @audit.command("verify")
    def audit_verify():
        """Verify the hash chain of the audit trail; exit 1 at the first broken link."""
        from portal.audit import verify_chain

        count, bad, why = verify_chain()
        if bad is None:
            click.echo(f"审计链完整：共 {count} 条记录")
            return
        click.echo(f"审计链在第 {bad.id} 条记录处断裂：{why}（此前 {count} 条完好）", err=True)
        raise SystemExit(1)
