"""Loading the law texts into the database, and the article search index.

``load_laws`` is idempotent: a law is keyed by full name + version date and carries the SHA-256 of
its source files; a reload with unchanged files writes nothing (not even an audit record).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import nh3
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, func, select

from portal import audit
from portal.extensions import db
from portal.search import SearchIndex, facet_field, text_field
from portal.statutes.models import Article, Division, Law
from portal.statutes.parsing import LoadError, ParsedFile, discover, parse_file

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_LAWS_FOLDER = ROOT / "data" / "laws"


class StatuteError(Exception):
    """A domain error of the statute library, with a Chinese message."""


@dataclass
class LoadReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def laws_folder() -> Path:
    return Path(current_app.config.get("STATUTES_FOLDER") or DEFAULT_LAWS_FOLDER)


def load_laws(actor=None, root: Path | None = None, paths: list[Path] | None = None) -> LoadReport:
    """Parse every file under ``root`` (or the given ``paths``) and store the laws.

    A file with an error is reported (file:line) and skipped; the other files still load. Files of
    one law (same full name and version) are combined in article order; a file whose articles do
    not follow the previous file's is skipped too. The caller commits.
    """
    root = Path(root or laws_folder())
    files = [parse_file(p, root) for p in (paths if paths is not None else discover(root))]
    report = LoadReport()
    groups: dict[tuple[str, object], list[ParsedFile]] = {}
    for pf in files:
        if not pf.ok:
            report.errors.extend(pf.errors)
            continue
        groups.setdefault((pf.full_name, pf.version_date), []).append(pf)

    for (full_name, version_date), parts in groups.items():
        parts.sort(key=lambda pf: pf.articles[0].key)
        accepted: list[ParsedFile] = []
        for pf in parts:
            if accepted and pf.articles[0].key <= accepted[-1].articles[-1].key:
                prev = accepted[-1]
                report.errors.append(LoadError(
                    pf.path, pf.articles[0].line,
                    f"条文序号顺序错误：{pf.articles[0].label} 与 {prev.path} 的 {prev.articles[-1].label} 重复或倒序"))
                continue
            accepted.append(pf)
        digest = hashlib.sha256("\n".join(sorted(pf.path + pf.digest for pf in accepted)).encode()).hexdigest()
        law = db.session.execute(
            select(Law).where(Law.full_name == full_name, Law.version_date == version_date)
        ).scalar_one_or_none()
        if law is not None and law.content_hash == digest:
            report.unchanged.append(law.short_name)
            continue
        is_new = law is None
        if is_new:
            law = Law(full_name=full_name, version_date=version_date)
            db.session.add(law)
        else:
            db.session.execute(delete(Article).where(Article.law_id == law.id))
            db.session.execute(delete(Division).where(Division.law_id == law.id))
            db.session.expire(law, ["articles", "divisions"])
        _fill_law(law, accepted, digest)
        db.session.flush()
        audit.record(actor, "statutes.load" if is_new else "statutes.reload", "law", law.id,
                     name=law.short_name, version=str(version_date), articles=law.article_count,
                     files=[pf.path for pf in accepted])
        (report.added if is_new else report.updated).append(law.short_name)
    _invalidate_caches()
    return report


def _fill_law(law: Law, parts: list[ParsedFile], digest: str) -> None:
    first = parts[0]
    law.short_name = first.short_name
    law.category = first.category
    law.effective_date = next((pf.effective_date for pf in parts if pf.effective_date), None)
    info: list[str] = []
    for pf in parts:
        info.extend(x for x in pf.info if x not in info)
    law.info = "\n".join(info)
    law.source = "\n".join(pf.path for pf in parts)
    law.content_hash = digest
    db.session.flush()
    position = 0
    dpos = 0
    count = 0
    for pf in parts:
        divisions: list[Division] = []
        for h in pf.headings:
            d = Division(law_id=law.id, depth=h.depth, label=h.label, title=h.title, position=dpos,
                         parent=divisions[h.parent] if h.parent is not None else None)
            dpos += 1
            divisions.append(d)
            db.session.add(d)
        db.session.flush()
        rows = []
        for a in pf.articles:
            position += 1
            count += 1
            rows.append({
                "law_id": law.id, "division_id": divisions[a.heading].id if a.heading is not None else None,
                "number": a.number, "suffix": a.suffix, "label": a.label, "position": position,
                "text": "\n".join(a.paragraphs), "source_line": f"{pf.path}:{a.line}",
            })
        if rows:
            db.session.execute(Article.__table__.insert(), rows)
    law.article_count = count


# ---- queries ---------------------------------------------------------------------------------

def current_laws() -> list[Law]:
    """The newest version of each law, ordered by category and name."""
    newest = (select(Law.full_name, func.max(Law.version_date).label("v")).group_by(Law.full_name).subquery())
    return list(db.session.execute(
        select(Law).join(newest, (Law.full_name == newest.c.full_name) & (Law.version_date == newest.c.v))
        .order_by(Law.category, Law.short_name)
    ).scalars())


def get_article(law: Law, number: int, suffix: int = 0) -> Article | None:
    return db.session.execute(
        select(Article).where(Article.law_id == law.id, Article.number == number, Article.suffix == suffix)
    ).scalar_one_or_none()


def division_path(article: Article) -> list[Division]:
    chain, node = [], article.division
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


# ---- search ----------------------------------------------------------------------------------

article_index = SearchIndex(
    "statutes",
    {
        "law_id": facet_field(),
        "category": facet_field(),
        "law": text_field(boost=1.0),
        "chapter": text_field(boost=1.0),
        "label": facet_field(),
        "number": facet_field(),
        "text": text_field(),
    },
    {"text": 2.0, "law": 1.0, "chapter": 0.5},
)


def _article_docs():
    laws = {law.id: law for law in db.session.execute(select(Law)).scalars()}
    divisions = {d.id: d for d in db.session.execute(select(Division)).scalars()}
    for a in db.session.execute(select(Article).order_by(Article.law_id, Article.position)).scalars():
        law = laws[a.law_id]
        chapter = []
        node = divisions.get(a.division_id)
        while node is not None:
            chapter.append(node.heading)
            node = divisions.get(node.parent_id)
        yield {
            "id": str(a.id), "law_id": str(law.id), "category": law.category,
            "law": f"{law.full_name} {law.short_name}", "chapter": " ".join(reversed(chapter)),
            "label": a.label, "number": str(a.number), "text": a.text,
        }


def reindex_articles() -> int:
    """Rebuild the article index from the database; returns the number of articles indexed."""
    return article_index.rebuild(_article_docs())


def index_in_step() -> bool:
    """True when the index holds as many documents as there are articles."""
    return article_index.count() == db.session.execute(select(func.count(Article.id))).scalar()


def search_articles(text: str, law_id: int | str | None = None, category: str | None = None,
                    page: int = 1, pagelen: int = 10):
    """Article-level search; ``hits`` carry ``article``/``law`` objects and a safe ``snippet``."""
    filters = {}
    if law_id:
        filters["law_id"] = str(law_id)
    if category:
        filters["category"] = category
    result = article_index.search(text, filters=filters, facets=["category", "law_id"], page=page,
                                  pagelen=pagelen, highlight_fields=["text"])
    ids = [int(h.id) for h in result.hits]
    articles = {a.id: a for a in db.session.execute(select(Article).where(Article.id.in_(ids))).scalars()} if ids else {}
    items = []
    for h in result.hits:
        art = articles.get(int(h.id))
        if art is None:  # index behind the database: skip rather than fail
            continue
        snippet = h.highlights.get("text") or ""
        if snippet:
            snippet = nh3.clean(snippet, tags={"mark"}, attributes={})
            head = nh3.clean(snippet, tags=set())[:6]
            snippet = Markup(snippet if art.text.startswith(head) else "…" + snippet)
        else:
            snippet = None
        items.append({"article": art, "law": art.law, "snippet": snippet, "score": h.score})
    return result, items


def _invalidate_caches() -> None:
    from portal.statutes.citations import invalidate_cache

    invalidate_cache()
