"""PostgreSQL full-text search backend of :class:`portal.search.SearchIndex`.

Chosen with ``SEARCH_BACKEND=postgres`` when the site runs on PostgreSQL: every SearchIndex then
keeps its documents in the table ``search_document`` (portal/search_pg_table.py) instead of a
Whoosh folder, so any number of app processes (and read replicas) search the same data and the
index follows the database transaction: a case published or withdrawn in a transaction is in or
out of the index exactly when that transaction commits.

* **Same tokens as Whoosh**: each searched field is segmented by its own Whoosh analyzer (jieba,
  search mode, lowercased) and the tokens become a ``tsvector`` literal built here, lexeme by
  lexeme, with positions and a weight per field (the highest boost A, then B, C, D). PostgreSQL's
  parser never re-splits the tokens, so a query word matches exactly what Whoosh would match.
* **Queries are never tsquery syntax**: the words come from :func:`portal.search.query_words`
  (jieba precise mode, symbols dropped) and each is quoted as one lexeme: ``'w1' & 'w2'``
  (every word) or ``'w1' | 'w2'`` (any word, with a coordination bonus for documents with more of
  them), cast from a bound parameter.
* **Ranking** ``ts_rank_cd`` with per-weight factors from the field boosts; the exact total and
  every facet count come from one ``GROUP BY GROUPING SETS`` over the same ``WHERE``; the page is
  one ``ORDER BY … LIMIT``. Highlights use :func:`portal.search.make_highlight` on the stored text
  (the same fragments as the Whoosh backend).
* **Writes** run in the caller's ``db.session`` transaction without committing (upsert, delete);
  ``rebuild`` commits. A write made after a commit (an ``after_commit`` hook) runs in its own
  short transaction.
"""
from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import threading

from sqlalchemy import text

from portal.extensions import db
from portal.search import Hit, SearchResult, make_highlight, query_words

log = logging.getLogger(__name__)

TABLE = "search_document"
_WEIGHTS = "ABCD"
_MAX_POSITION = 16383
_MAX_POSITIONS_PER_LEXEME = 255
_MAX_LEXEME_BYTES = 1000
_BATCH = 500

_backends: dict[int, PgSearchBackend] = {}
_lock = threading.Lock()
_warned = False


def backend_for(index) -> PgSearchBackend | None:
    """The backend of ``index`` when the app's database is PostgreSQL; None (Whoosh) otherwise."""
    global _warned
    if db.engine.dialect.name != "postgresql":
        if not _warned:
            log.warning("SEARCH_BACKEND=postgres 需要 PostgreSQL 数据库；当前数据库为 %s，继续使用 Whoosh",
                        db.engine.dialect.name)
            _warned = True
        return None
    b = _backends.get(id(index))
    if b is None or b.index is not index:
        with _lock:
            b = _backends[id(index)] = PgSearchBackend(index)
    return b


def quote_lexeme(word: str) -> str:
    """One lexeme in tsvector/tsquery input syntax: quoted, quotes and backslashes doubled."""
    return "'" + _clean(word).replace("\\", "\\\\").replace("'", "''") + "'"


def _clean(value: str) -> str:
    """PostgreSQL text cannot hold NUL characters."""
    return value.replace("\x00", "")


def tsquery_text(words: list[str], require_all: bool) -> str:
    return (" & " if require_all else " | ").join(quote_lexeme(w) for w in words)


class PgSearchBackend:
    """The search operations of one SearchIndex on the shared ``search_document`` table."""

    def __init__(self, index):
        self.index = index
        self.name = index.name
        schema = index.schema
        self.stored = [n for n in schema.names() if schema[n].stored]
        # Keyword fields (facet_field, the id): filters, facet counts, sort keys.
        self.keys = [n for n in schema.names() if n != "id" and type(schema[n]).__name__ == "ID"]
        # Searched fields and their weight letter (highest boost A … fourth and lower D).
        boosts = {}
        for fname, boost in index.search_fields.items():
            if fname in schema:
                boosts[fname] = float(boost) * float(getattr(schema[fname], "field_boost", 1.0) or 1.0)
        levels = sorted(set(boosts.values()), reverse=True)[:4]
        top = levels[0] if levels else 1.0
        self.field_weight = {f: _WEIGHTS[levels.index(b)] if b in levels else "D" for f, b in boosts.items()}
        factors = {_WEIGHTS[i]: b / top for i, b in enumerate(levels)}
        # ts_rank_cd's weight array is ordered {D, C, B, A}.
        self.rank_weights = "{" + ",".join(f"{factors.get(w, 0.1):.4f}" for w in "DCBA") + "}"

    # ---- documents -------------------------------------------------------------------------
    def _field_expr(self, fname: str) -> str:
        column = "keys" if fname in self.keys else "data"
        return f"{column} ->> {_sql_literal(fname)}"

    def row(self, doc: dict) -> dict:
        """The table row of one document (the same dict SearchIndex.upsert takes)."""
        from portal.search import _as_text

        doc = {k: _clean(v) if isinstance(v, str) else v for k, v in ((k, _as_text(v)) for k, v in doc.items())}
        doc_id = str(doc.get("id", ""))
        if not doc_id:
            raise ValueError("search document without an id")
        data = {k: doc[k] for k in self.stored if k in doc}
        data["id"] = doc_id
        keys = {k: str(doc[k]) for k in self.keys if doc.get(k) not in (None, "")}
        return {"index_name": self.name, "doc_id": doc_id, "data": json.dumps(data, ensure_ascii=False),
                "keys": json.dumps(keys, ensure_ascii=False), "tsv": self.tsvector_text(doc)}

    def tsvector_text(self, doc: dict) -> str:
        """A tsvector literal of the searched fields: each lexeme with positions and its weight."""
        schema = self.index.schema
        positions: dict[str, list[tuple[int, str]]] = {}
        pos = 0
        for fname, weight in self.field_weight.items():
            value = doc.get(fname)
            if not value:
                continue
            for token in schema[fname].process_text(str(value), mode="index"):
                pos += 1
                if not token or len(token.encode("utf-8")) > _MAX_LEXEME_BYTES:
                    continue
                plist = positions.setdefault(token, [])
                p = min(pos, _MAX_POSITION)
                if len(plist) < _MAX_POSITIONS_PER_LEXEME and (not plist or plist[-1][0] != p):
                    plist.append((p, weight))
            pos += 10  # a gap between fields
        return " ".join(f"{quote_lexeme(w)}:{','.join(f'{p}{wt}' for p, wt in plist)}"
                        for w, plist in positions.items())

    # ---- writing ---------------------------------------------------------------------------
    _UPSERT = (
        f"INSERT INTO {TABLE} (index_name, doc_id, seq, data, keys, tsv) "
        "VALUES (:index_name, :doc_id, nextval('search_document_seq'), CAST(:data AS jsonb), "
        "CAST(:keys AS jsonb), CAST(:tsv AS tsvector)) "
        "ON CONFLICT (index_name, doc_id) DO UPDATE SET seq = EXCLUDED.seq, data = EXCLUDED.data, "
        "keys = EXCLUDED.keys, tsv = EXCLUDED.tsv"
    )

    def _execute(self, sql: str, params=None):
        """Run a write in the caller's transaction; after a commit (in an after_commit hook,
        where the session may not emit SQL) in a short transaction of its own."""
        session = db.session()
        tx = session.get_transaction()
        if tx is not None and not tx.is_active:
            with db.engine.begin() as conn:
                return conn.execute(text(sql), params)
        return session.execute(text(sql), params)

    def upsert(self, docs: list[dict]) -> None:
        rows = [self.row(d) for d in docs]
        for i in range(0, len(rows), _BATCH):
            self._execute(self._UPSERT, rows[i:i + _BATCH])

    def delete(self, doc_id) -> None:
        self._execute(f"DELETE FROM {TABLE} WHERE index_name = :n AND doc_id = :d",
                      {"n": self.name, "d": str(doc_id)})

    def rebuild(self, docs, procs: int = 1, limitmb: int = 256) -> int:
        """Replace every document of this index with ``docs`` and commit; returns the count.

        ``procs`` > 1 segments the documents in that many processes (jieba is the slow part)."""
        session = db.session()
        session.execute(text(f"DELETE FROM {TABLE} WHERE index_name = :n"), {"n": self.name})
        count = 0
        batch: list[dict] = []
        seen: set[str] = set()

        def flush():
            # COPY (several times faster than INSERTs); a repeated id is written as an upsert.
            if not batch:
                return
            fresh = []
            for r in batch:
                if r["doc_id"] in seen:
                    self._copy(session, fresh)
                    fresh = []
                    session.execute(text(self._UPSERT), r)
                else:
                    seen.add(r["doc_id"])
                    fresh.append(r)
            self._copy(session, fresh)
            batch.clear()

        try:
            if procs > 1:
                from portal.search import warm_jieba

                warm_jieba()  # once here, not in every child
                ctx = multiprocessing.get_context("fork")
                global _worker_backend
                _worker_backend = self
                with ctx.Pool(procs) as pool:
                    for row in pool.imap(_worker_row, docs, chunksize=64):
                        batch.append(row)
                        count += 1
                        if len(batch) >= _BATCH:
                            flush()
            else:
                for doc in docs:
                    batch.append(self.row(doc))
                    count += 1
                    if len(batch) >= _BATCH:
                        flush()
            flush()
            self._settle(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return count

    @staticmethod
    def _copy(session, rows: list[dict]) -> None:
        if not rows:
            return
        conn = session.connection()
        seqs = conn.execute(text("SELECT nextval('search_document_seq') FROM generate_series(1, :k)"),
                            {"k": len(rows)}).scalars().all()
        cur = conn.connection.driver_connection.cursor()
        try:
            with cur.copy(f"COPY {TABLE} (index_name, doc_id, seq, data, keys, tsv) FROM STDIN") as cp:
                for seq, r in zip(seqs, rows):
                    cp.write_row((r["index_name"], r["doc_id"], seq, r["data"], r["keys"], r["tsv"]))
        finally:
            cur.close()

    @staticmethod
    def _settle(session) -> None:
        """After a bulk load: move the GIN indexes' pending entries into the index proper (until
        then every query scans the pending list, and the planner prefers a sequential scan) and
        refresh the statistics. Skipped without the rights to do so (vacuum will do it later)."""
        try:
            with session.begin_nested():
                session.execute(text("SELECT gin_clean_pending_list('ix_search_document_tsv'::regclass), "
                                     "gin_clean_pending_list('ix_search_document_keys'::regclass)"))
                session.execute(text(f"ANALYZE {TABLE}"))
        except Exception:  # an optimisation only
            log.warning("search_document: GIN pending list not cleaned after the rebuild", exc_info=True)

    def count(self) -> int:
        return int(db.session.execute(text(f"SELECT count(*) FROM {TABLE} WHERE index_name = :n"),
                                      {"n": self.name}).scalar())

    # ---- searching -------------------------------------------------------------------------
    def search(self, text_: str, filters=None, facets=(), page=1, pagelen=10, sort=None, reverse=True,
               highlight_fields=(), exclude_ids=(), require_all=True, fallback_any=True) -> SearchResult:
        words = query_words(text_)
        try:
            page = max(1, int(page or 1))
        except (TypeError, ValueError):
            page = 1
        pagelen = max(1, int(pagelen or 10))
        params: dict = {"n": self.name}
        where = ["index_name = :n"]
        wanted = {k: _clean(str(v)) for k, v in (filters or {}).items() if v not in (None, "")}
        key_filters = {k: v for k, v in wanted.items() if k in self.keys}
        if key_filters:
            where.append("keys @> CAST(:filters AS jsonb)")
            params["filters"] = json.dumps(key_filters, ensure_ascii=False)
        for i, (k, v) in enumerate((k, v) for k, v in wanted.items() if k not in self.keys):
            where.append(f"{self._field_expr(k)} = :fv{i}")
            params[f"fv{i}"] = v
        excluded = [_clean(str(x)) for x in exclude_ids or ()]
        if excluded:
            where.append("NOT (doc_id = ANY(:excluded))")
            params["excluded"] = excluded
        facets = [f for f in facets if f in self.index.schema]

        all_words = require_all and bool(words)
        with _planner_settings():
            counts = self._counts(where, params, words, all_words, facets)
            if counts[0] == 0 and words and require_all and fallback_any and len(words) > 1:
                all_words = False
                counts = self._counts(where, params, words, all_words, facets)
            total, facet_counts = counts
            rows = self._page(where, params, words, all_words, sort, reverse,
                              (page - 1) * pagelen, pagelen) if total else []

        hits: list[Hit] = []
        for doc_id, data, score in rows:
            h = Hit(id=doc_id, score=float(score or 0.0), fields=dict(data))
            for f in highlight_fields:
                h.highlights[f] = make_highlight(data.get(f) or "", words)
            hits.append(h)
        return SearchResult(query=text_, words=words, total=total, page=page, pagelen=pagelen, hits=hits,
                            facets={f: facet_counts.get(f, []) for f in facets})

    def _match(self, where, params, words, all_words):
        if not words:
            return where, params
        return where + ["tsv @@ CAST(:q AS tsquery)"], {**params, "q": tsquery_text(words, all_words)}

    def _counts(self, where, params, words, all_words, facets):
        where, params = self._match(where, params, words, all_words)
        cond = " AND ".join(where)
        if not facets:
            total = db.session.execute(text(f"SELECT count(*) FROM {TABLE} WHERE {cond}"), params).scalar()
            return int(total), {}
        exprs = [self._field_expr(f) for f in facets]
        cols = ", ".join(f"{e} AS f{i}" for i, e in enumerate(exprs))
        groups = ", ".join(["()"] + [f"({e})" for e in exprs])
        grouping = ", ".join(f"GROUPING({e})" for e in exprs)
        sql = (f"SELECT {cols}, {grouping}, count(*) FROM {TABLE} WHERE {cond} "
               f"GROUP BY GROUPING SETS ({groups})")
        total = 0
        out: dict[str, list[tuple[str, int]]] = {f: [] for f in facets}
        n = len(facets)
        for row in db.session.execute(text(sql), params):
            values, flags, c = row[:n], row[n:2 * n], int(row[-1])
            if all(flags):
                total = c
                continue
            i = list(flags).index(0)
            if values[i] not in (None, ""):
                out[facets[i]].append((values[i], c))
        for f in facets:
            out[f].sort(key=lambda kv: (-kv[1], kv[0]))
        return total, out

    def _page(self, where, params, words, all_words, sort, reverse, offset, limit):
        where, params = self._match(where, params, words, all_words)
        cond = " AND ".join(where)
        if words:
            score = "ts_rank_cd(CAST(:w AS real[]), tsv, CAST(:q AS tsquery), 1)"
            params = {**params, "w": self.rank_weights}
            if not all_words and len(words) > 1:
                # Coordination: a document with more of the words ranks above one with fewer.
                parts = []
                for i, w in enumerate(words):
                    params[f"w{i}"] = quote_lexeme(w)
                    parts.append(f"(tsv @@ CAST(:w{i} AS tsquery))::int")
                score = f"{score} * ({' + '.join(parts)}) / {float(len(words))}"
        else:
            score = "0.0"
        if sort:
            key = f"NULLIF({self._field_expr(sort)}, '') COLLATE \"C\""
            order = (f"{key} DESC NULLS LAST, score DESC, seq DESC" if reverse
                     else f"{key} ASC NULLS FIRST, score DESC, seq ASC")
        else:
            order = "score DESC, seq ASC"
        sql = (f"SELECT doc_id, data, score FROM (SELECT doc_id, data, seq, keys, {score} AS score "
               f"FROM {TABLE} WHERE {cond}) AS m ORDER BY {order} OFFSET :off LIMIT :lim")
        return db.session.execute(text(sql), {**params, "off": offset, "lim": limit}).all()


#: Planner settings of the search statements, for their transaction only (SET LOCAL) and put back
#: after them. ``enable_seqscan`` off: a word in most documents made the planner scan the table and
#: evaluate ``tsv @@`` on every row, fetching every document's tsvector from TOAST (and a second
#: time for the rank); the GIN bitmap reads only the narrow heap rows of the matches (the count and
#: the facets never touch the tsvector). ``work_mem``: the bitmap stays exact (a lossy one rechecks
#: ``tsv @@`` row by row) and all facet groupings are hashed in memory instead of sorted on disk.
#: ``jit`` off: compiling the expensive-looking plans took longer than running them.
PLANNER_SETTINGS = {"enable_seqscan": "off", "work_mem": "64MB", "jit": "off"}


@contextlib.contextmanager
def _planner_settings():
    session = db.session
    names = list(PLANNER_SETTINGS)
    old = session.execute(text("SELECT " + ", ".join(f"current_setting({_sql_literal(n)})" for n in names))).one()
    session.execute(text("SELECT " + ", ".join(f"set_config({_sql_literal(n)}, {_sql_literal(v)}, true)"
                                               for n, v in PLANNER_SETTINGS.items())))
    yield
    session.execute(text("SELECT " + ", ".join(f"set_config({_sql_literal(n)}, :v{i}, true)"
                                               for i, n in enumerate(names))),
                    {f"v{i}": v for i, v in enumerate(old)})


_worker_backend: PgSearchBackend | None = None


def _worker_row(doc):
    return _worker_backend.row(doc)


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
