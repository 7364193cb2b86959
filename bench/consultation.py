"""Benchmark of 法律咨询: title suggestions, the public search page and a legal worker's queue.

    .venv/bin/python bench/consultation.py --docs 3000 --open 2000

Builds a scratch app on a temporary SQLite database and index folder; makes ``--docs`` answered
public questions by recombining the demo questions and answers (varied titles, the same realistic
vocabulary) plus ``--open`` open ones spread over 长春's districts; rebuilds the index through
``flask consultation reindex``'s own function; then times 200 calls each of ``suggest`` (what the
ask page calls while a citizen types), ``search`` (the results page, with highlights and category
counts) and ``queue_for`` (the worker's queue, region-prefix and category filter, oldest first),
printing p50 / p95 / p99 in milliseconds.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from portal import create_app
from portal.accounts.models import Role
from portal.accounts.operations import create_user
from portal.consultation import demo_data, indexing
from portal.consultation.models import Consultation, ConsultationMessage
from portal.consultation.operations import queue_for
from portal.extensions import db
from portal.identity import make_id_number
from portal.places.models import Region

DISTRICTS = ["220102", "220103", "220104", "220105", "220106", "220112"]
QUERIES = ["拖欠工资", "离婚 抚养权", "交通事故赔偿", "物业费", "彩礼", "宅基地继承", "借条利息", "狗咬人",
           "七天无理由退货", "工伤认定", "租房押金", "医疗事故", "承包地", "噪音", "遗嘱"]


def pct(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100)
    return f"{q[49]:7.1f} {q[94]:7.1f} {q[98]:7.1f}"


def timed(fn, args_list) -> list[float]:
    out = []
    for args in args_list:
        t = time.perf_counter()
        fn(*args)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--open", type=int, default=2000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-consultation-"))
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'b.db'}",
                      "UPLOAD_FOLDER": str(tmp / "up"), "INDEX_FOLDER": str(tmp / "ix"),
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    rnd = random.Random(7)
    with app.app_context():
        db.create_all()
        province = Region(code="220000000000", name="吉林省", level=1)
        db.session.add(province)
        db.session.flush()
        city = Region(code="220100000000", name="长春市", level=2, parent_id=province.id)
        db.session.add(city)
        db.session.flush()
        towns = []
        for d in DISTRICTS:
            county = Region(code=d + "000000", name=f"区{d}", level=3, parent_id=city.id)
            db.session.add(county)
            db.session.flush()
            for t in range(1, 11):
                towns.append(Region(code=f"{d}{t:03d}000", name=f"街道{d}{t}", level=4, parent_id=county.id))
        db.session.add_all(towns)
        asker = create_user("13900000001", "x", "张建国", make_id_number("220102", dt.date(1970, 1, 1), "001"))
        worker = create_user("13900000002", "x", "王律师", make_id_number("220102", dt.date(1980, 1, 1), "002"),
                             [(Role.legal_worker, None, city, None)])
        db.session.flush()
        now = dt.datetime(2026, 11, 1)
        items = demo_data.ANSWERED
        t0 = time.perf_counter()
        for i in range(args.docs):
            a, b = rnd.choice(items), rnd.choice(items)
            title = (a["title"][: len(a["title"]) // 2 + 2] + b["title"][len(b["title"]) // 2:])[:60]
            c = Consultation(asker_id=asker.id, category=a["category"], region_id=rnd.choice(towns).id,
                             title=title, question=a["question"] + b["question"][:80], is_public=True,
                             state="closed", worker_id=worker.id, created_at=now, waiting_since=now,
                             first_answered_at=now + dt.timedelta(minutes=i), answered_at=now)
            c.messages.append(ConsultationMessage(author_id=worker.id, kind="answer", body=a["answer"]))
            db.session.add(c)
        for i in range(args.open):
            a = rnd.choice(items + demo_data.OPEN)
            db.session.add(Consultation(asker_id=asker.id, category=a["category"], region_id=rnd.choice(towns).id,
                                        title=a["title"], question=a["question"], is_public=True, state="open",
                                        created_at=now, waiting_since=now - dt.timedelta(minutes=rnd.randint(0, 9000))))
        db.session.commit()
        print(f"database: {args.docs} answered + {args.open} open questions in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        n = indexing.rebuild()
        print(f"index rebuild: {n} documents in {time.perf_counter() - t0:.1f} s "
              f"({n / (time.perf_counter() - t0):.0f} docs/s)")
        indexing.suggest("热身")  # warm jieba and the searcher
        titles = [rnd.choice(items)["title"][: rnd.randint(4, 12)] for _ in range(200)]
        queries = [(rnd.choice(QUERIES),) for _ in range(200)]
        print("                                p50     p95     p99   (ms, 200 calls each)")
        print(f"suggest (title as typed)    {pct(timed(indexing.suggest, [(t,) for t in titles]))}")
        print(f"search page (top 10, facets){pct(timed(indexing.search, queries))}")
        print(f"worker queue (20, filtered) {pct(timed(lambda p: queue_for(worker, p), [(rnd.randint(1, 5),) for _ in range(200)]))}")


if __name__ == "__main__":
    main()
