"""Chinese full-text search on Whoosh with jieba segmentation: the one search component of the site.

Consultations, exemplary cases and statutes each declare a :class:`SearchIndex` with their own
schema and use the same indexing, query building, highlighting and facet counting.

Why the query is built by hand rather than with Whoosh's ``QueryParser``: user input such as
``title:``, ``*`` or an unbalanced quote must be treated as text, never as syntax; and the query is
segmented with jieba's precise mode (whole words), while documents are indexed in search mode
(whole words plus their parts), so ``宅基地`` matches ``宅基地`` exactly and ranks above ``宅基``.
"""
from __future__ import annotations

import logging
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import jieba
from whoosh import fields as wf
from whoosh import highlight, index, query, sorting
from whoosh.analysis import LowercaseFilter, Token, Tokenizer
from whoosh.qparser import syntax  # noqa: F401  (imported so whoosh's plugins are registered)

jieba.setLogLevel(logging.WARNING)
_jieba_lock = threading.Lock()
_jieba_ready = False

#: Words too common to narrow a search (the query still matches documents without them).
STOPWORDS = frozenset(
    "的 了 和 是 在 我 有 也 就 都 而 及 与 或 个 这 那 之 其 被 把 对 为 以 于 请问 怎么 怎么办 什么 如何 吗 呢 啊 吧 "
    "可以 能 会 要 该 是否 一个 没有 我们 他们 你们 应该 问题".split()
)
_WORD_RE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
MAX_QUERY_CHARS = 100


def warm_jieba(cache_dir: str | None = None) -> None:
    """Load jieba's dictionary once (about a second), with its cache in ``cache_dir``."""
    global _jieba_ready
    with _jieba_lock:
        if _jieba_ready:
            return
        if cache_dir:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            jieba.dt.tmp_dir = cache_dir
        else:
            jieba.dt.tmp_dir = tempfile.gettempdir()
        jieba.initialize()
        _jieba_ready = True


class JiebaTokenizer(Tokenizer):
    """Search-mode jieba tokens with positions and character offsets (for highlighting)."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        warm_jieba()
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos = start_pos
        for word, start, end in jieba.tokenize(value, mode="search"):
            word = word.strip()
            if not word or not _WORD_RE.search(word):
                continue
            t.text = word
            t.boost = 1.0
            if keeporiginal:
                t.original = word
            t.stopped = False
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


def chinese_analyzer():
    return JiebaTokenizer() | LowercaseFilter()


def text_field(stored: bool = True, boost: float = 1.0) -> wf.TEXT:
    """A Chinese text field (stored by default, so it can be highlighted)."""
    return wf.TEXT(analyzer=chinese_analyzer(), stored=stored, field_boost=boost, phrase=False)


def facet_field() -> wf.ID:
    """A keyword to filter and count by (dispute type, region, level, year...)."""
    return wf.ID(stored=True, sortable=True)


def query_words(text: str) -> list[str]:
    """Whole-word terms of a user query: segmented precisely, stopwords and symbols dropped."""
    warm_jieba()
    text = (text or "")[:MAX_QUERY_CHARS]
    words: list[str] = []
    for w in jieba.cut(text, HMM=False):
        w = w.strip().lower()
        if w and _WORD_RE.search(w) and w not in STOPWORDS and w not in words:
            words.append(w)
    return words[:12]


@dataclass
class Hit:
    id: str
    score: float
    fields: dict
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResult:
    query: str
    words: list[str]
    total: int
    page: int
    pagelen: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.pagelen))


class SearchIndex:
    """One Whoosh index in ``<INDEX_FOLDER>/<name>``; documents are keyed by the ``id`` field."""

    def __init__(self, name: str, schema_fields: dict, search_fields: dict[str, float]):
        """``schema_fields``: name → whoosh field (``id`` is added); ``search_fields``: name → boost."""
        self.name = name
        self.schema = wf.Schema(id=wf.ID(stored=True, unique=True), **schema_fields)
        self.search_fields = search_fields
        self._ix = None
        self._folder = None
        self._lock = threading.Lock()

    # ---- opening ---------------------------------------------------------------------------
    def open(self, folder: str):
        path = Path(folder) / self.name
        with self._lock:
            if self._ix is not None and self._folder == str(path):
                return self._ix
            path.mkdir(parents=True, exist_ok=True)
            if index.exists_in(str(path)):
                self._ix = index.open_dir(str(path))
            else:
                self._ix = index.create_in(str(path), self.schema)
            self._folder = str(path)
            return self._ix

    def _current(self):
        from flask import current_app

        return self.open(current_app.config["INDEX_FOLDER"])

    # ---- writing ---------------------------------------------------------------------------
    def upsert(self, docs: list[dict]) -> None:
        ix = self._current()
        with ix.writer(timeout=30) as w:
            for doc in docs:
                w.update_document(**{k: _as_text(v) for k, v in doc.items()})

    def delete(self, doc_id) -> None:
        ix = self._current()
        with ix.writer(timeout=30) as w:
            w.delete_by_term("id", str(doc_id))

    def rebuild(self, docs) -> int:
        """Replace the whole index with ``docs`` (an iterable of dicts); returns the count."""
        ix = self._current()
        count = 0
        with ix.writer(timeout=60, procs=1, limitmb=256) as w:
            w.mergetype = __import__("whoosh.writing", fromlist=["CLEAR"]).CLEAR
            for doc in docs:
                w.add_document(**{k: _as_text(v) for k, v in doc.items()})
                count += 1
        return count

    def count(self) -> int:
        ix = self._current()
        with ix.searcher() as s:
            return s.doc_count()

    # ---- searching -------------------------------------------------------------------------
    def build_query(self, words: list[str], require_all: bool = True):
        per_word = []
        for w in words:
            per_word.append(
                query.Or([query.Term(f, w, boost=b) for f, b in self.search_fields.items()])
            )
        if not per_word:
            return query.Every()
        return query.And(per_word) if require_all else query.Or(per_word, scale=0.9)

    def search(
        self,
        text: str,
        filters: dict[str, str] | None = None,
        facets: list[str] = (),
        page: int = 1,
        pagelen: int = 10,
        sort: str | None = None,
        reverse: bool = True,
        highlight_fields: list[str] = (),
        exclude_ids: list[str] = (),
        require_all: bool = True,
        fallback_any: bool = True,
    ) -> SearchResult:
        """Search ``text``; filter by exact facet values; count ``facets``; highlight fields.

        When every word is required and nothing matches, the search is retried with any word
        (ranked by how many match), so a long question still finds something useful.
        """
        ix = self._current()
        words = query_words(text)
        page = max(1, int(page or 1))
        filter_q = None
        if filters:
            terms = [query.Term(k, str(v)) for k, v in filters.items() if v not in (None, "")]
            if terms:
                filter_q = query.And(terms)
        mask = query.Or([query.Term("id", str(i)) for i in exclude_ids]) if exclude_ids else None
        with ix.searcher() as s:
            q = self.build_query(words, require_all=require_all)
            results = self._run(s, q, filter_q, mask, facets, page, pagelen, sort, reverse)
            if results.total == 0 and words and require_all and fallback_any and len(words) > 1:
                q = self.build_query(words, require_all=False)
                results = self._run(s, q, filter_q, mask, facets, page, pagelen, sort, reverse)
            hits = []
            formatter = highlight.HtmlFormatter(tagname="mark", between="…")
            fragmenter = highlight.ContextFragmenter(maxchars=160, surround=40)
            for hit in results.page_hits:
                h = Hit(id=hit["id"], score=hit.score or 0.0, fields=dict(hit))
                for f in highlight_fields:
                    hit.results.formatter = formatter
                    hit.results.fragmenter = fragmenter
                    h.highlights[f] = hit.highlights(f, top=2) or ""
                hits.append(h)
            return SearchResult(
                query=text, words=words, total=results.total, page=page, pagelen=pagelen,
                hits=hits, facets=results.facet_counts,
            )

    def _run(self, s, q, filter_q, mask, facets, page, pagelen, sort, reverse):
        groupedby = {f: sorting.FieldFacet(f, allow_overlap=False) for f in facets} or None
        kwargs = dict(filter=filter_q, mask=mask, groupedby=groupedby, limit=page * pagelen,
                      terms=True)
        if sort:
            kwargs["sortedby"] = sorting.FieldFacet(sort, reverse=reverse)
        r = s.search(q, **kwargs)
        facet_counts = {}
        for f in facets:
            groups = r.groups(f)
            facet_counts[f] = sorted(
                ((k, len(v)) for k, v in groups.items() if k not in (None, "")),
                key=lambda kv: (-kv[1], kv[0]),
            )
        start = (page - 1) * pagelen
        return _Run(total=len(r) if r.has_exact_length() else r.estimated_length(),
                    page_hits=list(r[start:start + pagelen]), facet_counts=facet_counts)


@dataclass
class _Run:
    total: int
    page_hits: list
    facet_counts: dict


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    return value

