"""Search over public answered consultations, on the site's one search component (portal.search).

The index holds only public questions that have an answer, with personal identifiers masked.
Operations mark a consultation for re-indexing; the index is written right after the database
transaction commits (so a rolled-back change never reaches the index), and ``flask consultation
reindex`` rebuilds it from the database.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.search import IndexFollower, SearchIndex, facet_field, query_words, text_field
from portal.text import plain_text

INDEX = SearchIndex(
    "consultation",
    {
        "title": text_field(boost=1.0),
        "body": text_field(),
        "category": facet_field(),
        "region": facet_field(),
        "answered": facet_field(),
    },
    search_fields={"title": 3.0, "body": 1.0},
)

_MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_RE = re.compile(r"(?<![\dXx])(\d{4})\d{10}(\d{3}[\dXx])(?![\dXx])")
_LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{7,8}(?!\d)")


def mask_personal(text: str, names: list[str] = ()) -> str:
    """Hide mobile numbers, ID numbers, landlines and the given names in text shown in public."""
    if not text:
        return ""
    text = _ID_RE.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    text = _MOBILE_RE.sub(r"\1****\2", text)
    text = _LANDLINE_RE.sub(lambda m: m.group(1) + "********", text)
    for name in names:
        if name and len(name) >= 2:
            text = text.replace(name, name[0] + "某" * (len(name) - 1))
    return text


def indexable(c) -> bool:
    return bool(c.is_public and c.first_answered_at is not None)


def document(c) -> dict:
    names = [c.asker.real_name] if c.asker else []
    parts = [mask_personal(c.question, names)]
    for m in c.messages:
        text = plain_text(m.body) if m.is_answer else m.body
        parts.append(mask_personal(text, names))
    return {
        "id": str(c.id),
        "title": mask_personal(c.title, names),
        "body": "\n".join(parts),
        "category": c.category,
        "region": c.region.code[:6] if c.region else "",
        "answered": f"{c.first_answered_at:%Y%m%d%H%M%S}",
    }


_follower = None


def mark_for_index(c) -> None:
    """Ask for ``c`` to be (re)indexed or removed once the current transaction commits."""
    _follower.mark(c)


def listen() -> None:
    """Make the index follow the consultations' commits (portal.search.IndexFollower); once."""
    global _follower
    if _follower is None:
        from portal.consultation.models import Consultation

        _follower = IndexFollower(INDEX, Consultation, document, indexable,
                                  repair="flask consultation reindex", label="法律咨询")


def rebuild() -> int:
    from portal.consultation.models import Consultation

    rows = db.session.execute(
        select(Consultation).where(Consultation.is_public.is_(True), Consultation.first_answered_at.is_not(None))
        .order_by(Consultation.id)
    ).scalars()
    return INDEX.rebuild(document(c) for c in rows)


def _cover(word: str) -> list[str] | None:
    """Split a compound query word into dictionary words that cover it end to end
    (拖欠工资 → 拖欠 工资, 交通事故 → 交通 事故), or None when it has no such split (宅基地)."""
    import jieba

    parts = [(w, a, b) for w, a, b in jieba.tokenize(word, mode="search") if len(w) >= 2 and w != word]
    out, pos = [], 0
    while pos < len(word):
        here = [p for p in parts if p[1] == pos]
        if not here:
            return None
        w, _, end = max(here, key=lambda p: p[2])
        out.append(w)
        pos = end
    return out if len(out) > 1 else None


def expand_query(text: str, every_part: bool = False) -> str:
    """The query text handed to the site's search component.

    The component segments a query into whole words (precise mode). A compound such as 拖欠工资 then
    finds only documents with that exact compound, missing "拖欠了三个月工资"; so each compound with a
    clean split is replaced by its parts (all still required). With ``every_part`` (suggestions,
    where any word may match) the compound and all its parts are kept, so closer titles rank higher.
    """
    import jieba

    words = []
    for w in query_words(text):
        if every_part:
            words.extend(x for x in jieba.cut_for_search(w) if len(x) >= 2 or x == w)
        else:
            words.extend(_cover(w) or [w])
    return " ".join(dict.fromkeys(words))


def suggest(title: str, limit: int = 5) -> list[dict]:
    """Up to ``limit`` answered public questions like ``title`` (any word may match)."""
    if len((title or "").strip()) < 2:
        return []
    result = INDEX.search(expand_query(title, every_part=True), require_all=False, pagelen=limit)
    return [{"id": int(h.id), "title": h.fields.get("title", ""), "category": h.fields.get("category", "")}
            for h in result.hits]


def search(text: str, category: str | None = None, page: int = 1, pagelen: int = 10):
    return INDEX.search(
        expand_query(text), filters={"category": category} if category else None, facets=["category"], page=page,
        pagelen=pagelen, highlight_fields=["title", "body"],
        sort=None if (text or "").strip() else "answered",
    )
