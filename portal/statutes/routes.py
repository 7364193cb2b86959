"""Views of the statute library: laws by category, a law with its table of contents, an article
(page and JSON for the hover popover), and article search. All read-only and public."""
from __future__ import annotations

import re

from flask import abort, current_app, jsonify, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db
from portal.search import MAX_QUERY_CHARS, query_words
from portal.statutes import bp
from portal.statutes.citations import citation_map, find_citations
from portal.statutes.models import Article, Division, Law
from portal.statutes.operations import current_laws, division_path, get_article, search_articles
from portal.statutes.permissions import can_view_law

_KEY_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,3}))?$")
PAGE_LEN = 10


def _load_law(law_id: int) -> Law:
    law = db.session.get(Law, law_id)
    if law is None or not can_view_law(current_user, law):
        abort(404)
    return law


@bp.get("/")
def index():
    laws = current_laws()
    categories: dict[str, list[Law]] = {}
    for law in laws:
        categories.setdefault(law.category, []).append(law)
    return render_template("statutes/index.html", categories=categories, total=len(laws))


@bp.get("/search")
def search():
    q = (request.args.get("q") or "").strip()
    too_long = len(q) > MAX_QUERY_CHARS
    laws = current_laws()
    law_ids = {law.id for law in laws}
    categories = sorted({law.category for law in laws})
    law_id = request.args.get("law", type=int)
    law_id = law_id if law_id in law_ids else None
    category = request.args.get("category") or None
    category = category if category in categories else None
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100)
    result, items, failed = None, [], False
    no_words = bool(q) and not query_words(q)
    if q and not no_words:
        try:
            result, items = search_articles(q, law_id=law_id, category=category, page=page, pagelen=PAGE_LEN)
        except Exception:  # a broken or locked index must not become a 500
            current_app.logger.exception("statute search failed for %r", q[:100])
            failed = True
    names = {law.id: law.short_name for law in laws}
    return render_template(
        "statutes/search.html", q=q, too_long=too_long, no_words=no_words, result=result, items=items, failed=failed,
        laws=laws, categories=categories, law_id=law_id, category=category, names=names,
        max_chars=MAX_QUERY_CHARS,
    )


@bp.get("/<int:law_id>")
def show_law(law_id: int):
    law = _load_law(law_id)
    divisions = db.session.execute(
        select(Division).where(Division.law_id == law.id).order_by(Division.position)
    ).scalars().all()
    articles = db.session.execute(
        select(Article).where(Article.law_id == law.id).order_by(Article.position)
    ).scalars().all()
    by_division: dict[int | None, list[Article]] = {}
    for a in articles:
        by_division.setdefault(a.division_id, []).append(a)
    first = {d.id: by_division[d.id][0] for d in divisions if by_division.get(d.id)}
    versions = db.session.execute(
        select(Law).where(Law.full_name == law.full_name).order_by(Law.version_date.desc())
    ).scalars().all()
    return render_template("statutes/law.html", law=law, divisions=divisions, by_division=by_division,
                           first=first, versions=versions)


@bp.get("/<int:law_id>/articles/<key>")
def show_article(law_id: int, key: str):
    as_json = key.endswith(".json")
    if as_json:
        key = key[:-5]
    m = _KEY_RE.match(key)
    if not m:
        abort(404)
    law = _load_law(law_id)
    article = get_article(law, int(m.group(1)), int(m.group(2) or 0)) or abort(404)
    page_url = url_for("statutes.show_article", law_id=law.id, key=key)
    if as_json:
        return jsonify({
            "law": law.short_name, "law_full_name": law.full_name, "label": article.label,
            "heading": f"《{law.short_name}》{article.label}",
            "paragraphs": [{"kind": p.kind, "text": p.text} for p in article.paragraphs],
            "url": page_url, "law_url": url_for("statutes.show_law", law_id=law.id, _anchor=article.anchor),
        })
    prev_art = db.session.execute(
        select(Article).where(Article.law_id == law.id, Article.position < article.position)
        .order_by(Article.position.desc()).limit(1)
    ).scalar_one_or_none()
    next_art = db.session.execute(
        select(Article).where(Article.law_id == law.id, Article.position > article.position)
        .order_by(Article.position).limit(1)
    ).scalar_one_or_none()
    return render_template("statutes/article.html", law=law, article=article, path=division_path(article),
                           prev_art=prev_art, next_art=next_art, related=_related(law, article),
                           cited_by=_cited_by(law, article))


def _related(law: Law, article: Article) -> list[Article]:
    """Articles this article cites (本法第…条, 《…法》第…条), in order, without repeats."""
    cmap = citation_map()
    ref = cmap.by_id.get(law.id)
    seen, out = {(law.id, article.number, article.suffix)}, []
    for c in find_citations(article.plain, default_law=ref, cmap=cmap):
        k = (c.law.law_id, c.number, c.suffix)
        if k in seen:
            continue
        seen.add(k)
        target = db.session.execute(
            select(Article).where(Article.law_id == c.law.law_id, Article.number == c.number,
                                  Article.suffix == c.suffix)
        ).scalar_one_or_none()
        if target is not None:
            out.append(target)
        if len(out) >= 12:
            break
    return out


def _cited_by(law: Law, article: Article, limit: int = 12) -> list[Article]:
    """Articles that cite this one: candidates found by SQL (the label in the text, and for other
    laws also the law's name), each confirmed by the citation finder."""
    from sqlalchemy import or_

    cmap = citation_map()
    words = [article.label, f"第{article.number}条"]
    if article.suffix == 0:
        words.append(f"{article.label[:-1]}、")  # 第五、六条
    candidates = db.session.execute(
        select(Article).where(
            Article.id != article.id,
            or_(*[Article.text.contains(w) for w in words]),
            or_(Article.law_id == law.id, Article.text.contains(law.short_name)),
        ).order_by(Article.law_id != law.id, Article.law_id, Article.position).limit(200)
    ).scalars().all()
    out = []
    for cand in candidates:
        ref = cmap.by_id.get(cand.law_id)
        if any(c.law.law_id == law.id and (c.number, c.suffix) == (article.number, article.suffix)
               for c in find_citations(cand.plain, default_law=ref, cmap=cmap)):
            out.append(cand)
            if len(out) >= limit:
                break
    return out
