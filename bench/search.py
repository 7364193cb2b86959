"""Benchmark of the search component (portal.search) against SQL LIKE on the same data.

    .venv/bin/python bench/search.py --docs 5000          # quick
    nohup .venv/bin/python bench/search.py --docs 100000 > /tmp/bench-search.log 2>&1 &

1. Generates synthetic exemplary cases: a vocabulary of real Chinese words (the most frequent
   2–4 character words of jieba's dictionary, thousands of them) drawn with Zipf-like
   frequencies, 600–1,500 characters a case, with dispute type, region, level and year.
2. Builds the Whoosh index through ``SearchIndex.rebuild`` (the schema the case library uses: one
   combined unstored text field with the title repeated for weight, stored title and body for
   display and highlights, four facet columns) and reports time, docs/s, size, peak memory.
3. Runs 200 queries of 1–3 words and times the whole results page: top 10 with highlights, the
   exact total and the counts of all four facets; p50/p95/p99, with the posting cache off (every
   posting list read from disk) and on (a second pass over the same queries).
4. Runs the same page on SQLite by LIKE (one GROUP BY over the matches gives the total and all
   facet counts, one ORDER BY … LIMIT 10 gives the page) and reports the ratio.
5. With ``--backend pg`` (or ``--backend whoosh pg`` for both): the same cases indexed through the
   same ``SearchIndex`` with ``SEARCH_BACKEND=postgres`` (PostgreSQL full-text search in the
   ``search_document`` table, portal/search_pg.py) in a schema ``bench_search`` of ``--pg-url``; the
   same 200 pages timed twice, against the same LIKE page on PostgreSQL.

    .venv/bin/python bench/search.py --docs 100000 --backend whoosh pg
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds other benchmarks named like standard modules (http.py): keep it off the path.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import jieba
from flask import Flask
from whoosh import fields as wf

from portal.search import SearchIndex, facet_field, text_field

DISPUTE_TYPES = ["婚姻家庭", "邻里纠纷", "损害赔偿", "劳动争议", "医疗纠纷", "道路交通", "物业纠纷",
                 "消费纠纷", "土地承包", "房屋宅基地", "借贷纠纷", "合同纠纷", "山林土地", "其他"]
LEVELS = ["县级", "市级", "省级"]
PUNCT = "，，，。。；、：！？"
FACETS = ["dispute_type", "region", "level", "year"]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def vocabulary(size: int) -> list[str]:
    """The ``size`` most frequent 2–4 character Chinese words of jieba's dictionary."""
    path = Path(jieba.__file__).parent / "dict.txt"
    words = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            w, freq, *_ = line.split()
            if 2 <= len(w) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in w):
                words.append((int(freq), w))
    words.sort(reverse=True)
    return [w for _, w in words[:size]]


def zipf_weights(n: int, s: float = 1.05) -> list[float]:
    return [1.0 / (r ** s) for r in range(1, n + 1)]


def generate(n_docs: int, vocab: list[str], seed: int = 7):
    rnd = random.Random(seed)
    weights = zipf_weights(len(vocab))
    cum = list(__import__("itertools").accumulate(weights))
    regions = [f"22{c:02d}{d:02d}000000" for c in range(1, 9) for d in range(1, 6)] + \
              [f"53{c:02d}{d:02d}000000" for c in range(1, 9) for d in range(1, 6)]
    for i in range(n_docs):
        target = rnd.randint(600, 1500)
        parts, length = [], 0
        words = rnd.choices(vocab, cum_weights=cum, k=target // 2 + 20)
        k = 0
        while length < target:
            w = words[k % len(words)]
            k += 1
            parts.append(w)
            length += len(w)
            if rnd.random() < 0.12:
                parts.append(rnd.choice(PUNCT))
                length += 1
        body = "".join(parts) + "。"
        title_words = rnd.choices(vocab, cum_weights=cum, k=rnd.randint(3, 6))
        title = "".join(title_words) + rnd.choice(["纠纷调解案", "纠纷案", "一案", "调解案例"])
        yield {
            "id": str(i + 1),
            "title": title,
            "body": body,
            "dispute_type": DISPUTE_TYPES[min(int(rnd.paretovariate(1.2)) - 1, len(DISPUTE_TYPES) - 1)],
            "region": rnd.choice(regions),
            "level": rnd.choices(LEVELS, weights=[6, 3, 1])[0],
            "year": str(rnd.randint(2015, 2025)),
        }


def case_index() -> SearchIndex:
    """The same design as case_library.search: one combined unstored field to search."""
    return SearchIndex(
        "bench_cases",
        {
            "content": text_field(stored=False),
            "title": wf.STORED(),
            "body": wf.STORED(),
            "dispute_type": facet_field(),
            "region": facet_field(),
            "level": facet_field(),
            "year": facet_field(),
        },
        {"content": 1.0},
    )


def as_index_doc(doc: dict) -> dict:
    return {**doc, "content": f"{doc['title']}\n{doc['title']}\n{doc['body']}"}


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def fmt(times_ms):
    return f"p50 {pct(times_ms, 50):7.1f}  p95 {pct(times_ms, 95):7.1f}  p99 {pct(times_ms, 99):7.1f} ms"


def peak_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def like_page(conn, words):
    where = " AND ".join(["(title LIKE ? OR body LIKE ?)"] * len(words))
    params = [x for w in words for x in (f"%{w}%", f"%{w}%")]
    groups = conn.execute(
        f"SELECT dispute_type, region, level, year, COUNT(*) FROM cases WHERE {where} "
        f"GROUP BY dispute_type, region, level, year", params).fetchall()
    total = sum(g[4] for g in groups)
    facets = [{} for _ in FACETS]
    for g in groups:
        for i in range(4):
            facets[i][g[i]] = facets[i].get(g[i], 0) + g[4]
    top = conn.execute(f"SELECT id, title, body FROM cases WHERE {where} ORDER BY id DESC LIMIT 10",
                       params).fetchall()
    return total, facets, top


def make_queries(vocab: list[str], n: int) -> list[str]:
    rnd = random.Random(11)
    weights = zipf_weights(len(vocab))
    # Queries: content words of the vocabulary drawn with the same Zipf weights, skipping the 30
    # most frequent words (function-like words nobody searches for).
    pool, pool_w = vocab[30:], weights[30:]
    queries = [rnd.choices(pool, weights=pool_w, k=rnd.choice([1, 1, 2, 2, 2, 3])) for _ in range(n)]
    queries = [" ".join(dict.fromkeys(q)) for q in queries]
    return queries


def time_pages(idx, queries, label: str) -> list[float]:
    """Time the whole results page (top 10 with highlights, exact total, facet counts) per query."""
    times, totals = [], []
    for q in queries:
        t0 = time.perf_counter()
        r = idx.search(q, facets=FACETS, highlight_fields=["body", "title"], pagelen=10,
                       require_all=True, fallback_any=False)
        times.append((time.perf_counter() - t0) * 1000)
        totals.append(r.total)
        assert len(r.hits) <= 10
    print(f"{label}: {fmt(times)}; mean {statistics.mean(times):.1f} ms; "
          f"matches per query median {int(statistics.median(totals)):,}, max {max(totals):,}", flush=True)
    return times


def run_whoosh(args, app, work: Path, vocab: list[str], queries: list[str]) -> None:
    db_path = work / "cases.sqlite3"
    idx = case_index()
    with app.app_context():
        built = db_path.exists() and args.keep and idx.count() == args.docs
    if not built:
        if db_path.exists():
            db_path.unlink()
        shutil.rmtree(work / "index", ignore_errors=True)
        conn = sqlite3.connect(db_path)
        conn.execute("CREATE TABLE cases (id INTEGER PRIMARY KEY, title TEXT, body TEXT, dispute_type TEXT, "
                     "region TEXT, level TEXT, year TEXT)")
        t = time.perf_counter()
        docs = list(generate(args.docs, vocab))
        chars = sum(len(d["body"]) + len(d["title"]) for d in docs)
        conn.executemany("INSERT INTO cases VALUES (?,?,?,?,?,?,?)",
                         [(int(d["id"]), d["title"], d["body"], d["dispute_type"], d["region"], d["level"],
                           d["year"]) for d in docs])
        conn.commit()
        conn.close()
        print(f"generated {len(docs):,} cases, {chars / 1e6:.1f} M characters "
              f"(mean {chars / len(docs):.0f}) in {time.perf_counter() - t:.1f} s; "
              f"SQLite {dir_size(db_path) / 1e6:.0f} MB", flush=True)
        t = time.perf_counter()
        with app.app_context():
            n = idx.rebuild((as_index_doc(d) for d in docs), procs=args.procs, limitmb=256)
        build_s = time.perf_counter() - t
        del docs
        print(f"index built: {n:,} docs in {build_s:.1f} s = {n / build_s:.0f} docs/s "
              f"({chars / build_s / 1e3:.0f} k chars/s), size {dir_size(work / 'index') / 1e6:.0f} MB, "
              f"peak memory: this process {peak_mb():.0f} MB, indexing children "
              f"{peak_mb(resource.RUSAGE_CHILDREN):.0f} MB", flush=True)


    rss_before = peak_mb()
    with app.app_context():
        def run_pass(label):
            return time_pages(idx, queries, f"whoosh page ({label})")

        # Open the index and load the per-segment columns (lengths, facet codes) once.
        t0 = time.perf_counter()
        idx.search(queries[0], facets=FACETS)
        print(f"first search after opening (loads segment columns): {(time.perf_counter() - t0) * 1000:.0f} ms",
              flush=True)
        idx.set_term_cache(0)
        cold = run_pass("posting cache off")
        idx.set_term_cache(4096)
        run_pass("posting cache warming")
        warm = run_pass("posting cache on, second pass")
        sample = idx.search(queries[1], facets=FACETS, highlight_fields=["body"])
        if sample.hits:
            print(f"sample query {queries[1]!r}: {sample.total:,} matches; top hit highlight: "
                  f"{sample.hits[0].highlights['body'][:120]}…", flush=True)
    print(f"peak memory of the searching process: {peak_mb():.0f} MB (before queries {rss_before:.0f} MB)",
          flush=True)

    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA cache_size = -400000")
    like_times = []
    for q in queries[: args.like_queries]:
        words = q.split()
        t0 = time.perf_counter()
        like_page(conn, words)
        like_times.append((time.perf_counter() - t0) * 1000)
    conn.close()
    print(f"SQL LIKE page ({len(like_times)} queries): {fmt(like_times)}", flush=True)
    n_like = len(like_times)
    for label, times in (("cache off", cold), ("cache on", warm)):
        print(f"ratio LIKE / whoosh ({label}, same {n_like} queries): "
              f"p50 {pct(like_times, 50) / pct(times[:n_like], 50):.1f}x, "
              f"p95 {pct(like_times, 95) / pct(times[:n_like], 95):.1f}x", flush=True)
    target = pct(cold, 50) < 50 and pct(cold, 95) < 200 and pct(like_times, 50) / pct(cold[:n_like], 50) >= 10
    print(f"target (p50 < 50 ms, p95 < 200 ms, >= 10x LIKE) with the cache off: {'MET' if target else 'NOT MET'}")


# ---- PostgreSQL full-text search (SEARCH_BACKEND=postgres) --------------------------------------

def like_page_pg(cur, words):
    """The LIKE page of :func:`like_page` on PostgreSQL (the baseline of the PostgreSQL backend)."""
    where = " AND ".join(["(title LIKE %s OR body LIKE %s)"] * len(words))
    params = [x for w in words for x in (f"%{w}%", f"%{w}%")]
    cur.execute(f"SELECT dispute_type, region, level, year, COUNT(*) FROM bench_cases WHERE {where} "
                f"GROUP BY dispute_type, region, level, year", params)
    groups = cur.fetchall()
    total = sum(g[4] for g in groups)
    cur.execute(f"SELECT id, title, body FROM bench_cases WHERE {where} ORDER BY id DESC LIMIT 10", params)
    return total, cur.fetchall()


def run_pg(args, work: Path, vocab: list[str], queries: list[str]) -> None:
    """The same page (top 10 with highlights, exact total, four facet counts) on PostgreSQL FTS
    through ``SearchIndex`` with ``SEARCH_BACKEND=postgres``, against LIKE on the same database."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.search_pg_table import search_document, search_document_seq

    schema = "bench_search"
    base = args.pg_url
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        if not args.keep:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        version = conn.execute(sa.text("SHOW server_version")).scalar()
        shared = conn.execute(sa.text("SHOW shared_buffers")).scalar()
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    app = Flask("bench_pg")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SEARCH_BACKEND="postgres", INDEX_FOLDER=str(work / "unused"))
    db.init_app(app)
    idx = case_index()
    print(f"-- PostgreSQL {version} (shared_buffers {shared}), schema {schema}", flush=True)
    with app.app_context():
        assert idx._pg_backend() is not None, "the PostgreSQL backend is not active"
        search_document_seq.create(db.engine, checkfirst=True)
        db.metadata.create_all(db.engine, tables=[search_document])
        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_cases (id INTEGER PRIMARY KEY, title TEXT, "
                                 "body TEXT, dispute_type TEXT, region TEXT, level TEXT, year TEXT)"))
        built = args.keep and idx.count() == args.docs
        if not built:
            t = time.perf_counter()
            docs = list(generate(args.docs, vocab))
            raw = db.engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute("TRUNCATE bench_cases")
                with cur.copy("COPY bench_cases (id, title, body, dispute_type, region, level, year) FROM STDIN") as cp:
                    for d in docs:
                        cp.write_row((int(d["id"]), d["title"], d["body"], d["dispute_type"], d["region"],
                                      d["level"], d["year"]))
                raw.commit()
            finally:
                raw.close()
            print(f"generated {len(docs):,} cases into bench_cases (LIKE baseline) in "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
            t = time.perf_counter()
            n = idx.rebuild((as_index_doc(d) for d in docs), procs=args.procs)
            build_s = time.perf_counter() - t
            del docs
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE search_document"))
                conn.execute(sa.text("ANALYZE bench_cases"))
            print(f"pg index built: {n:,} docs in {build_s:.1f} s = {n / build_s:.0f} docs/s "
                  f"({args.procs} segmenting processes)", flush=True)
        with db.engine.connect() as conn:
            sizes = conn.execute(sa.text(
                "SELECT pg_total_relation_size('search_document'), pg_relation_size('ix_search_document_tsv'), "
                "pg_total_relation_size('bench_cases')")).one()
        print(f"search_document {sizes[0] / 1e6:.0f} MB (GIN on tsv {sizes[1] / 1e6:.0f} MB); "
              f"bench_cases {sizes[2] / 1e6:.0f} MB", flush=True)

        def run_pass(label):
            times = time_pages(idx, queries, f"pg page ({label})")
            db.session.rollback()
            return times

        first = run_pass("first pass")
        warm = run_pass("second pass")
        sample = idx.search(queries[1], facets=FACETS, highlight_fields=["body"])
        if sample.hits:
            print(f"sample query {queries[1]!r}: {sample.total:,} matches; facets "
                  f"{ {k: v[:2] for k, v in sample.facets.items()} }; top hit highlight: "
                  f"{sample.hits[0].highlights['body'][:100]}…", flush=True)
        db.session.rollback()
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            like_times = []
            for q in queries[: args.like_queries]:
                t0 = time.perf_counter()
                like_page_pg(cur, q.split())
                like_times.append((time.perf_counter() - t0) * 1000)
            raw.rollback()
        finally:
            raw.close()
        print(f"PostgreSQL LIKE page ({len(like_times)} queries): {fmt(like_times)}", flush=True)
        n_like = len(like_times)
        for label, times in (("first pass", first), ("second pass", warm)):
            print(f"ratio LIKE / pg FTS ({label}, same {n_like} queries): "
                  f"p50 {pct(like_times, 50) / pct(times[:n_like], 50):.1f}x, "
                  f"p95 {pct(like_times, 95) / pct(times[:n_like], 95):.1f}x", flush=True)
        db.session.remove()
        db.engine.dispose()
    if not args.keep:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--like-queries", type=int, default=200, help="queries to time on SQL LIKE")
    ap.add_argument("--procs", type=int, default=2, help="indexing processes")
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep an existing index and database in --dir")
    ap.add_argument("--backend", nargs="+", choices=["whoosh", "pg"], default=["whoosh"],
                    help="search backends to measure: whoosh (index folder; LIKE on SQLite as baseline) and/or "
                         "pg (PostgreSQL full-text search, portal/search_pg.py; LIKE on PostgreSQL as baseline)")
    ap.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL", PG_URL),
                    help="PostgreSQL database for --backend pg (a schema bench_search is created in it)")
    args = ap.parse_args()

    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    app = Flask("bench")
    app.config["INDEX_FOLDER"] = str(work / "index")
    print(f"== bench/search.py: {args.docs:,} cases, vocabulary {args.vocab:,} words, "
          f"{os.cpu_count()} cores, work folder {work}", flush=True)

    jieba.setLogLevel(60)
    jieba.initialize()
    vocab = vocabulary(args.vocab)
    print(f"vocabulary: {len(vocab):,} distinct words (Zipf s=1.05), e.g. {'、'.join(vocab[:5])} … "
          f"{'、'.join(vocab[-3:])}", flush=True)

    queries = make_queries(vocab, args.queries)
    if "whoosh" in args.backend:
        run_whoosh(args, app, work, vocab, queries)
    if "pg" in args.backend:
        run_pg(args, work, vocab, queries)
    if not args.dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
