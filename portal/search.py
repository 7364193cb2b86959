"""Chinese full-text search on Whoosh with jieba segmentation: the one search component of the site.

Consultations, exemplary cases and statutes each declare a :class:`SearchIndex` with their own
schema and use the same indexing, query building, highlighting and facet counting.

Design (measured in ``bench/search.py``):

* **Whoosh stores the index** (segments, postings, stored fields, columns); documents are indexed
  in jieba's search mode (whole words plus their parts) by default.
* **Queries are never parsed as Whoosh syntax**: user input such as ``title:``, ``*`` or an
  unbalanced quote is plain text. The query is segmented with jieba's precise mode (whole words),
  so ``宅基地`` matches the token ``宅基地`` and not its fragments.
* **Scoring, counting and facets run on NumPy arrays** rather than Whoosh's per-document Python
  collectors. For each query word the posting list of each search field is read block by block
  into arrays (``docnums``, ``term frequencies``), cached per immutable segment; BM25 scores of all
  words are summed with ``bincount``, documents matching more of the words get a coordination
  bonus (``score * matched / words``), filters and deletions are boolean masks, the exact total is
  a ``count_nonzero`` and every facet count is one ``bincount`` over a per-segment column of value
  codes. Whoosh's own collector visits every match in Python, which at 100,000 documents took
  about a second with facets; the arrays take milliseconds.
* **Highlights are found by substring search** of the query words in the stored text of the top
  hits (Chinese words are literal substrings), escaped, with ``<mark>`` around each match, instead
  of re-segmenting each stored text with jieba at query time.
"""
from __future__ import annotations

import contextlib
import logging
import math
import random
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import jieba
import numpy as np
from markupsafe import escape
from whoosh import fields as wf
from whoosh import index
from whoosh.analysis import LowercaseFilter, Token, Tokenizer
from whoosh.qparser import syntax  # noqa: F401  (imported so whoosh's plugins are registered)

jieba.setLogLevel(logging.WARNING)
_log = logging.getLogger(__name__)


# ---- segment names independent of the global ``random`` state ---------------------------------
# Whoosh names every new segment (``_MAIN_<16 random chars>.*``) and its temporary files with the
# global ``random`` module. Anything that reseeds that module (hypothesis does ``random.seed(0)``
# before every example; so would a script or a library seeding for reproducible output) makes the
# next segment take the name of a live one: its files are overwritten while the table of contents
# still describes the old ones, and the index is corrupt (AssertionError in create_compound_file,
# then "Unknown file header" / out-of-range document numbers). Names come from the OS instead.
_name_rng = random.SystemRandom()
_IDCHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _random_name(size: int = 28) -> str:
    return "".join(_name_rng.choice(_IDCHARS) for _ in range(size))


def _patch_whoosh_names() -> None:
    import whoosh.codec.base
    import whoosh.filedb.compound
    import whoosh.filedb.filestore
    import whoosh.multiproc
    import whoosh.util
    import whoosh.writing

    for mod in (whoosh.util, whoosh.codec.base, whoosh.filedb.compound, whoosh.filedb.filestore,
                whoosh.multiproc, whoosh.writing):
        mod.random_name = _random_name


_patch_whoosh_names()
_jieba_lock = threading.Lock()
_jieba_ready = False

#: Words too common to narrow a search (the query still matches documents without them).
STOPWORDS = frozenset(
    ["的", "了", "和", "是", "在", "我", "有", "也", "就", "都", "而", "及", "与", "或", "个", "这", "那", "之", "其", "被", "把", "对", "为", "以", "于", "请问", "怎么", "怎么办", "什么", "如何", "吗", "呢", "啊", "吧", "可以", "能", "会", "要", "该", "是否", "一个", "没有", "我们", "他们", "你们", "应该", "问题"]
)
_WORD_RE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
MAX_QUERY_CHARS = 100

# BM25 parameters (Whoosh's defaults).
_K1 = 1.2
_B = 0.75


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
    """jieba tokens with positions and character offsets.

    ``mode="search"`` (the default) also yields the parts of long words (人民调解委员会 gives 人民,
    调解, 委员会 and the whole word), so a search for a part finds the whole; ``mode="precise"``
    yields whole words only: a smaller, faster index for very large collections.
    """

    def __init__(self, mode: str = "search"):
        self.cut_mode = mode

    def __eq__(self, other):
        return type(self) is type(other) and self.cut_mode == other.cut_mode

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
        cut_mode = getattr(self, "cut_mode", "search")
        if cut_mode == "search":
            tokens = jieba.tokenize(value, mode="search")
        else:
            tokens = _precise_tokens(value)
        for word, start, end in tokens:
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


def _precise_tokens(value: str):
    start = 0
    for w in jieba.cut(value, HMM=False):
        yield w, start, start + len(w)
        start += len(w)


def chinese_analyzer(mode: str = "search"):
    return JiebaTokenizer(mode) | LowercaseFilter()


def text_field(stored: bool = True, boost: float = 1.0, mode: str = "search") -> wf.TEXT:
    """A Chinese text field (stored by default, so it can be highlighted)."""
    return wf.TEXT(analyzer=chinese_analyzer(mode), stored=stored, field_boost=boost, phrase=False)


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


# ---- per-segment array caches ---------------------------------------------------------------

class _LRU:
    """A small thread-safe LRU mapping (segments are immutable, so entries never go stale)."""

    def __init__(self, size: int):
        self.size = size
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key, value):
        if self.size <= 0:
            return
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def clear(self):
        with self._lock:
            self._d.clear()


_EMPTY_I = np.zeros(0, dtype=np.int32)
_EMPTY_F = np.zeros(0, dtype=np.float32)


def _segment_key(leaf) -> tuple:
    """The cache key of a segment: its folder, its name and its size (segments are immutable, but
    the caches are per process and shared by every index folder, e.g. of several test apps)."""
    seg = getattr(leaf, "_segment", None)
    if seg is not None and hasattr(seg, "segment_id"):
        folder = getattr(getattr(leaf, "_storage", None), "folder", "")
        return (folder, seg.segment_id(), leaf.doc_count_all())
    return ("obj", id(leaf))


def _read_postings(leaf, fieldname: str, word: str):
    """All (docnums, weights) of a term in one segment, deletions included (masked later)."""
    try:
        tbytes = leaf._text_to_bytes(fieldname, word)
        terms = getattr(leaf, "_terms", None)
        if terms is not None:
            if (fieldname, tbytes) not in terms:
                return _EMPTY_I, _EMPTY_F
            m = terms.matcher(fieldname, tbytes, leaf.schema[fieldname].format)
        else:
            m = leaf.postings(fieldname, word)
    except Exception:  # noqa: BLE001  (TermNotFound and friends: the word is not in this segment)
        return _EMPTY_I, _EMPTY_F
    ids: list = []
    weights: list = []
    if hasattr(m, "_next_block") and hasattr(m, "_read_ids"):
        # Whoosh 3 codec leaf matcher: take whole blocks rather than one posting at a time.
        while m.is_active():
            if m._ids is None:
                m._read_ids()
            if m._weights is None:
                m._read_weights()
            ids.extend(m._ids[m._i:])
            weights.extend(m._weights[m._i:])
            m._next_block()
    else:
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
    return np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32)


def _deleted_docs(leaf):
    seg = getattr(leaf, "_segment", None)
    if seg is not None and hasattr(seg, "deleted_docs"):
        return list(seg.deleted_docs())
    return [d for d in range(leaf.doc_count_all()) if leaf.is_deleted(d)]


class _SegmentData:
    """Arrays of one segment: field lengths, facet column codes, sort keys (built lazily)."""

    def __init__(self, leaf):
        self.n = leaf.doc_count_all()
        self.lengths: dict[str, np.ndarray] = {}
        self.columns: dict[str, tuple[np.ndarray, list]] = {}
        self._lock = threading.Lock()

    def field_lengths(self, leaf, fieldname: str) -> np.ndarray:
        arr = self.lengths.get(fieldname)
        if arr is None:
            with self._lock:
                arr = np.fromiter((leaf.doc_field_length(d, fieldname, 0) or 0 for d in range(self.n)),
                                  dtype=np.float32, count=self.n)
                self.lengths[fieldname] = arr
        return arr

    def column(self, leaf, fieldname: str) -> tuple[np.ndarray, list]:
        """(codes per docnum, values by code) for a facet field; code -1 means no value."""
        col = self.columns.get(fieldname)
        if col is None:
            with self._lock:
                values = _column_values(leaf, fieldname, self.n)
                uniq: dict = {}
                codes = np.fromiter(
                    (uniq.setdefault(v, len(uniq)) if v not in (None, "", b"") else -1 for v in values),
                    dtype=np.int32, count=self.n,
                )
                col = (codes, list(uniq))
                self.columns[fieldname] = col
        return col


def _column_values(leaf, fieldname: str, n: int) -> list:
    if leaf.has_column(fieldname):
        cr = leaf.column_reader(fieldname, translate=True)
        values = [cr[d] for d in range(n)]
    else:  # not a column field: fall back to the stored fields
        values = [leaf.stored_fields(d).get(fieldname) if not leaf.is_deleted(d) else None for d in range(n)]
    return [v.decode("utf-8") if isinstance(v, bytes) else v for v in values]


_segments = _LRU(256)


def _segment_data(leaf) -> _SegmentData:
    key = _segment_key(leaf)
    data = _segments.get(key)
    if data is None:
        data = _SegmentData(leaf)
        _segments.put(key, data)
    return data


@contextlib.contextmanager
def _writing(ix, timeout: float = 30):
    """A Whoosh writer that never leaves the index locked: Whoosh's own context manager cancels
    on an error in the body but not on an error inside ``commit`` (seen under hostile input: an
    AssertionError while writing a compound segment), after which every later write waited for
    the lock and then failed with LockError."""
    # compound=False: small incremental segments stay plain files; building a compound file is
    # where Whoosh asserted when a segment name was reused after a failed commit.
    w = ix.writer(timeout=timeout, compound=False)
    try:
        yield w
        w.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            w.cancel()
        lock = getattr(w, "writelock", None)
        if lock is not None:
            with contextlib.suppress(Exception):  # cancel() may have released it already
                lock.release()
        raise


def _still_current(searcher) -> bool:
    try:
        return searcher.up_to_date()
    except Exception:  # noqa: BLE001  (the table of contents itself is being replaced: not current)
        return False


class SearchIndex:
    """One Whoosh index in ``<INDEX_FOLDER>/<name>``; documents are keyed by the ``id`` field."""

    #: Posting arrays kept in memory per (segment, field, word); 0 turns the cache off.
    term_cache_size = 4096

    def __init__(self, name: str, schema_fields: dict, search_fields: dict[str, float]):
        """``schema_fields``: name → whoosh field (``id`` is added); ``search_fields``: name → boost."""
        self.name = name
        self.schema = wf.Schema(id=wf.ID(stored=True, unique=True), **schema_fields)
        self.search_fields = search_fields
        self._ix = None
        self._folder = None
        self._lock = threading.Lock()
        self._terms = _LRU(self.term_cache_size)
        self._local = threading.local()

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
                # Created under the writers' lock, checked again inside it: two processes starting
                # on an empty folder must not both create it (creating clears the table of contents,
                # which would drop a commit the other process made in between).
                from whoosh.filedb.filestore import FileStorage

                lock = FileStorage(str(path)).lock("MAIN_WRITELOCK")  # Whoosh's writer lock of the index "MAIN"
                lock.acquire(blocking=True)
                try:
                    if index.exists_in(str(path)):
                        self._ix = index.open_dir(str(path))
                    else:
                        self._ix = index.create_in(str(path), self.schema)
                finally:
                    lock.release()
            self._folder = str(path)
            return self._ix

    def _current(self):
        from flask import current_app

        return self.open(current_app.config["INDEX_FOLDER"])

    def _pg_backend(self):
        """PostgreSQL full-text search (portal.search_pg) with SEARCH_BACKEND=postgres on a
        PostgreSQL database; None for Whoosh (the default)."""
        from flask import current_app, has_app_context

        if not has_app_context() or current_app.config.get("SEARCH_BACKEND", "whoosh") != "postgres":
            return None
        from portal.search_pg import backend_for

        return backend_for(self)

    def set_term_cache(self, size: int) -> None:
        """Resize (or with 0 switch off) the posting-array cache."""
        self._terms = _LRU(size)

    # ---- writing ---------------------------------------------------------------------------
    def upsert(self, docs: list[dict]) -> None:
        if (b := self._pg_backend()) is not None:
            return b.upsert(docs)
        with _writing(self._current()) as w:
            for doc in docs:
                w.update_document(**{k: _as_text(v) for k, v in doc.items()})

    def delete(self, doc_id) -> None:
        if (b := self._pg_backend()) is not None:
            return b.delete(doc_id)
        with _writing(self._current()) as w:
            w.delete_by_term("id", str(doc_id))

    def rebuild(self, docs, procs: int = 1, limitmb: int = 256) -> int:
        """Replace the whole index with ``docs`` (an iterable of dicts); returns the count.

        ``procs`` > 1 segments the documents in that many processes (for large rebuilds).
        """
        if (b := self._pg_backend()) is not None:
            return b.rebuild(docs, procs=procs, limitmb=limitmb)
        from whoosh.writing import CLEAR

        ix = self._current()
        count = 0
        kwargs = {"timeout": 60, "procs": procs, "limitmb": limitmb}
        if procs > 1:
            kwargs["multisegment"] = True
        w = ix.writer(**kwargs)
        try:
            if procs <= 1:
                w.mergetype = CLEAR
            else:
                # MpWriter cannot clear; delete what is there first.
                with ix.searcher() as s:
                    for docnum in s.reader().all_doc_ids():
                        w.delete_document(docnum)
            for doc in docs:
                w.add_document(**{k: _as_text(v) for k, v in doc.items()})
                count += 1
            w.commit(**({"mergetype": CLEAR} if procs <= 1 else {}))
        except BaseException:
            with contextlib.suppress(Exception):
                w.cancel()
            lock = getattr(w, "writelock", None)
            if lock is not None:
                with contextlib.suppress(Exception):
                    lock.release()
            raise
        return count

    def count(self) -> int:
        if (b := self._pg_backend()) is not None:
            return b.count()
        ix = self._current()
        with ix.searcher() as s:
            return s.doc_count()

    # ---- searching -------------------------------------------------------------------------
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

        Words are ORed and documents matching more of them rank higher; with ``require_all``
        only documents containing every word count. When every word is required and nothing
        matches, the search is retried with any word, so a long question still finds something.
        ``sort`` names a sortable field (``reverse`` for descending) instead of relevance.
        """
        if (b := self._pg_backend()) is not None:
            return b.search(text, filters, facets, page, pagelen, sort, reverse, highlight_fields, exclude_ids,
                            require_all, fallback_any)
        ix = self._current()
        words = query_words(text)
        try:
            page = max(1, int(page or 1))
        except (TypeError, ValueError):
            page = 1
        pagelen = max(1, int(pagelen or 10))
        for attempt in range(3):
            s = self._searcher(ix, fresh=attempt > 0)
            try:
                return self._search_in(s, text, words, filters, facets, page, pagelen, sort, reverse,
                                       highlight_fields, exclude_ids, require_all, fallback_any)
            except Exception as err:
                # A segment file this (older) searcher opens lazily was merged away by a writer,
                # here or in another process, after the up-to-date check: search the new state.
                # Whoosh reports that as an OSError, or (a column file gone: its reader is None)
                # as a TypeError deep in the codec; any error of a searcher that is no longer up to
                # date is retried on the new state, an error on the current state is a real one.
                if attempt == 2 or not (isinstance(err, OSError) or not _still_current(s)):
                    raise
        raise AssertionError("unreachable")

    def _search_in(self, s, text, words, filters, facets, page, pagelen, sort, reverse, highlight_fields,
                   exclude_ids, require_all, fallback_any) -> SearchResult:
        reader = s.reader()
        leaves = reader.leaf_readers()
        state = self._gather(leaves, words, filters or {}, exclude_ids)
        need = len(words) if (require_all and words) else 1
        selected = state["matched"] >= need if words else state["live"]
        selected &= state["live"]
        total = int(np.count_nonzero(selected))
        if total == 0 and words and require_all and fallback_any and len(words) > 1:
            selected = (state["matched"] >= 1) & state["live"]
            total = int(np.count_nonzero(selected))
        ranked = self._rank(leaves, state, selected, sort, reverse, page * pagelen)
        start = (page - 1) * pagelen
        hits = []
        for gdoc in ranked[start:start + pagelen]:
            leaf, local = state["locate"](int(gdoc))
            stored = leaf.stored_fields(local)
            h = Hit(id=stored.get("id"), score=float(state["score"][gdoc]), fields=dict(stored))
            for f in highlight_fields:
                h.highlights[f] = make_highlight(stored.get(f) or "", words)
            hits.append(h)
        facet_counts = {f: self._facet_counts(leaves, state, selected, f) for f in facets}
        return SearchResult(query=text, words=words, total=total, page=page, pagelen=pagelen,
                            hits=hits, facets=facet_counts)

    def _searcher(self, ix, fresh: bool = False):
        """This thread's open searcher, reopened when the index has changed (opening one per
        query costs more than a whole small search). ``up_to_date`` compares the generation of
        the newest table of contents on disk, so a commit by another process is seen too."""
        cached = getattr(self._local, "cached", None)
        if cached is not None:
            cached_ix, s = cached
            if not fresh and cached_ix is ix and s.up_to_date():
                return s
            self._local.cached = None
            with contextlib.suppress(Exception):
                s.close()
        s = ix.searcher()
        self._local.cached = (ix, s)
        return s

    def _postings(self, leaf, fieldname: str, word: str):
        key = (_segment_key(leaf), fieldname, word)
        hit = self._terms.get(key)
        if hit is None:
            hit = _read_postings(leaf, fieldname, word)
            self._terms.put(key, hit)
        return hit

    def _gather(self, leaves, words, filters, exclude_ids) -> dict:
        """Global arrays over all segments: live mask, score, matched-word count."""
        bases = [base for _, base in leaves]
        sizes = [leaf.doc_count_all() for leaf, _ in leaves]
        n = sum(sizes)
        live = np.ones(n, dtype=bool)
        score = np.zeros(n, dtype=np.float32)
        matched = np.zeros(n, dtype=np.int16)
        doc_count = 0
        for leaf, base in leaves:
            if leaf.has_deletions():
                dels = np.fromiter(_deleted_docs(leaf), dtype=np.int64)
                live[base + dels] = False
            doc_count += leaf.doc_count()
        # Filters: each field=value is a term's posting list (works for any indexed field).
        for fname, value in filters.items():
            if value in (None, ""):
                continue
            mask = np.zeros(n, dtype=bool)
            for leaf, base in leaves:
                ids, _ = self._postings(leaf, fname, str(value))
                mask[base + ids] = True
            live &= mask
        for doc_id in exclude_ids or ():
            for leaf, base in leaves:
                ids, _ = _read_postings(leaf, "id", str(doc_id))
                live[base + ids] = False
        n_live = max(1, doc_count)
        for word in words:
            present = np.zeros(n, dtype=bool)
            for fname, boost in self.search_fields.items():
                if fname not in self.schema:
                    continue
                fboost = boost * getattr(self.schema[fname], "field_boost", 1.0)
                per_leaf = [(leaf, base, *self._postings(leaf, fname, word)) for leaf, base in leaves]
                df = sum(len(ids) for _, _, ids, _ in per_leaf)
                if df == 0:
                    continue
                idf = math.log(1.0 + (n_live - df + 0.5) / (df + 0.5))
                for leaf, base, ids, tf in per_leaf:
                    if not len(ids):
                        continue
                    seg = _segment_data(leaf)
                    lengths = seg.field_lengths(leaf, fname)[ids]
                    avg = (leaf.field_length(fname) / max(1, leaf.doc_count_all())) or 1.0
                    norm = tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * lengths / avg))
                    gids = ids + base
                    score[gids] += (fboost * idf) * norm
                    present[gids] = True
            matched += present
        if words:
            # Coordination: a document with more of the words ranks above one with fewer.
            score *= matched.astype(np.float32) / len(words)

        def locate(gdoc: int):
            for i in range(len(bases) - 1, -1, -1):
                if gdoc >= bases[i]:
                    return leaves[i][0], gdoc - bases[i]
            raise IndexError(gdoc)

        return {"live": live, "score": score, "matched": matched, "locate": locate, "n": n, "sizes": sizes}

    def _global_column(self, leaves, fname):
        """Codes over all segments mapped onto one shared value list."""
        values: dict = {}
        parts = []
        for leaf, _ in leaves:
            codes, seg_values = _segment_data(leaf).column(leaf, fname)
            remap = np.array([values.setdefault(v, len(values)) for v in seg_values] + [-1], dtype=np.int32)
            parts.append(remap[codes])  # code -1 indexes the trailing -1
        arr = np.concatenate(parts) if parts else _EMPTY_I
        return arr, list(values)

    def _rank(self, leaves, state, selected, sort, reverse, limit):
        docs = np.flatnonzero(selected)
        if not len(docs):
            return docs
        if sort:
            codes, values = self._global_column(leaves, sort)
            rank_of = np.zeros(len(values) + 1, dtype=np.int64)
            for rank, code in enumerate(sorted(range(len(values)), key=lambda i: str(values[i]))):
                rank_of[code] = rank + 1
            keys = rank_of[codes[docs]]  # code -1 (no value) takes the trailing 0: sorts lowest
            scores = state["score"][docs]
            # Ties broken by relevance, then by the later-added document.
            if reverse:
                order = np.lexsort((-docs, -scores, -keys))
            else:
                order = np.lexsort((docs, -scores, keys))
            return docs[order[:limit]]
        scores = state["score"][docs]
        if limit < len(docs):
            part = np.argpartition(-scores, limit - 1)[:limit]
            docs, scores = docs[part], scores[part]
        order = np.lexsort((docs, -scores))
        return docs[order]

    def _facet_counts(self, leaves, state, selected, fname):
        if fname not in self.schema:
            return []
        codes, values = self._global_column(leaves, fname)
        chosen = codes[selected]
        chosen = chosen[chosen >= 0]
        counts = np.bincount(chosen, minlength=len(values)) if len(values) else []
        pairs = [(values[i], int(c)) for i, c in enumerate(counts) if c]
        return sorted(pairs, key=lambda kv: (-kv[1], kv[0]))

    # ---- compatibility ---------------------------------------------------------------------
    def build_query(self, words: list[str], require_all: bool = True):
        """The equivalent Whoosh query object (for callers that run Whoosh searches themselves)."""
        from whoosh import query

        per_word = [query.Or([query.Term(f, w, boost=b) for f, b in self.search_fields.items()])
                    for w in words]
        if not per_word:
            return query.Every()
        return query.And(per_word) if require_all else query.Or(per_word, scale=0.9)


class IndexFollower:
    """Keeps a :class:`SearchIndex` in step with the rows of one model, transaction by transaction.

    Operations call :meth:`mark` for a row they changed; when the session commits, each marked row
    is written to the index (``indexable(row)`` true) or removed from it (false, or the row is
    gone). With Whoosh the write happens right AFTER the database commit succeeded, so a failed
    commit or a rollback never leaves the index ahead of the database; if that write fails, the
    commit stands (the database is the truth), the error is logged with ``repair`` (the command
    that rebuilds the index) and the request goes on. With the PostgreSQL backend the index lives
    in the database: the documents are written inside the committing transaction and commit with it.
    The documents are built in ``before_commit``, while the session can still load what they need.
    """

    def __init__(self, index: SearchIndex, model, document, indexable, repair: str, label: str):
        self.index, self.model, self.document, self.indexable = index, model, document, indexable
        self.repair, self.label = repair, label
        self._pending = f"search.{index.name}.pending"
        self._ready = f"search.{index.name}.ready"
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        event.listen(Session, "before_commit", self._build)
        event.listen(Session, "after_commit", self._write)
        event.listen(Session, "after_soft_rollback", self._forget)

    def mark(self, row) -> None:
        """(Re)index or remove ``row`` when the current transaction commits."""
        from portal.extensions import db

        db.session.info.setdefault(self._pending, set()).add(row.id)

    def changes(self, session, ids) -> dict:
        """Row id → its index document, or None to remove it from the index."""
        from sqlalchemy import select

        rows = {r.id: r for r in session.execute(select(self.model).where(self.model.id.in_(ids))).scalars()}
        return {i: (self.document(rows[i]) if i in rows and self.indexable(rows[i]) else None) for i in sorted(ids)}

    def apply(self, changes: dict) -> None:
        docs = [d for d in changes.values() if d is not None]
        if docs:
            self.index.upsert(docs)
        for row_id, doc in changes.items():
            if doc is None:
                self.index.delete(row_id)

    def _build(self, session) -> None:
        ids = session.info.pop(self._pending, None)
        if not ids:
            return
        changes = self.changes(session, ids)
        if self.index._pg_backend() is not None:
            self.apply(changes)  # in the committing transaction
        else:
            session.info[self._ready] = changes

    def _write(self, session) -> None:
        from flask import has_app_context

        changes = session.info.pop(self._ready, None)
        if not changes or not has_app_context():
            return
        try:
            self.apply(changes)
        except Exception:  # noqa: BLE001  (the commit stands; the index is repaired by a rebuild)
            _log.exception("%s检索索引更新失败（%s）；数据库已保存。请运行 `%s` 重建索引",
                           self.label, ", ".join(str(i) for i in changes), self.repair)

    def _forget(self, session, previous_transaction) -> None:
        if not previous_transaction.nested:  # a savepoint's rollback leaves the outer transaction's marks
            session.info.pop(self._pending, None)
            session.info.pop(self._ready, None)


def make_highlight(text: str, words: list[str], maxchars: int = 160, surround: int = 40, top: int = 2) -> str:
    """Escaped fragments of ``text`` around the query words, each match in ``<mark>``; "" if none."""
    if not text or not words:
        return ""
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    matches = [(m.start(), m.end()) for m in pattern.finditer(text)]
    if not matches:
        return ""
    # Group matches into windows, then keep the windows with the most distinct words.
    windows = []
    i = 0
    while i < len(matches):
        start = max(0, matches[i][0] - surround)
        end = min(len(text), matches[i][1] + surround)
        j = i + 1
        while j < len(matches) and matches[j][1] + surround - start <= maxchars:
            end = min(len(text), matches[j][1] + surround)
            j += 1
        group = matches[i:j]
        distinct = len({text[a:b].lower() for a, b in group})
        windows.append((distinct, len(group), -start, start, end, group))
        i = j
    best = sorted(windows, reverse=True)[:top]
    best.sort(key=lambda w: w[3])
    out = []
    for _, _, _, start, end, group in best:
        pieces, pos = [], start
        for a, b in group:
            pieces.append(str(escape(text[pos:a])))
            pieces.append(f"<mark>{escape(text[a:b])}</mark>")
            pos = b
        pieces.append(str(escape(text[pos:end])))
        out.append("".join(pieces))
    return "…".join(out)


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    return value
