"""Benchmark of the statute library: loading, indexing, article search, citation linking, and the
largest law page (民法典, 1,260 articles). Prints figures; asserts nothing.

    .venv/bin/python bench/statutes.py
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py would shadow the standard library's http package: drop bench/ from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from portal import create_app
from portal.extensions import db

QUERIES = ["司法确认 三十日", "调解协议 法律约束力", "离婚冷静期", "医疗纠纷 调解", "物业费", "宅基地", "劳动合同 解除 经济补偿",
           "交通事故 赔偿", "未成年人 监护", "个人信息 删除", "法律援助 条件", "仲裁 裁决 撤销", "承包地 征收 补偿",
           "信访 事项 受理", "拒绝调解", "赡养 老年人", "格式条款", "高空抛物", "遗嘱 继承", "违约金 过高"]
TEXT = ("根据《中华人民共和国人民调解法》第十七条、第二十九条，以及《民法典》第一千零四十二条的规定，本法第三条……"
        "当事人可以依照人民调解法第33条申请司法确认；《婚姻法》第三十二条已经废止。\n") * 20


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main():
    tmp = Path(tempfile.mkdtemp(prefix="bench-statutes-"))
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'b.sqlite3'}",
                      "INDEX_FOLDER": str(tmp / "index"), "UPLOAD_FOLDER": str(tmp / "up")})
    from portal.search import warm_jieba
    from portal.statutes.citations import find_citations, link_citations
    from portal.statutes.operations import load_laws, reindex_articles, search_articles

    with app.app_context():
        db.create_all()
        warm_jieba()
        report, t_load = timed(load_laws, None)
        db.session.commit()
        _, t_reload = timed(load_laws, None)
        count, t_index = timed(reindex_articles)
        print(f"load 27 files ({len(report.added)} laws): {t_load:.2f} s; reload (unchanged): {t_reload:.2f} s")
        print(f"index {count} articles: {t_index:.1f} s ({count / t_index:.0f} articles/s)")

        with app.test_request_context():
            times = []
            for rnd in range(2):
                for q in QUERIES:
                    _, t = timed(search_articles, q)
                    if rnd:
                        times.append(t * 1000)
            print(f"search (warm, {len(times)} queries): p50 {statistics.median(times):.1f} ms, "
                  f"p95 {pct(times, 95):.1f} ms, max {max(times):.1f} ms")
            link_citations("预热")
            _, t = timed(lambda: [link_citations(TEXT) for _ in range(20)])
            chars = len(TEXT) * 20
            cits = len(find_citations(TEXT))
            print(f"link_citations: {chars / t / 1000:.0f}k chars/s ({cits} citations per {len(TEXT)} chars)")

        client = app.test_client()
        client.get("/laws/1")
        page_times = [timed(client.get, "/laws/1")[1] * 1000 for _ in range(3)]
        size = len(client.get("/laws/1").data)
        print(f"民法典 law page: {statistics.median(page_times):.0f} ms, {size / 1024:.0f} KiB")
        art_times = [timed(client.get, f"/laws/1/articles/{n}.json")[1] * 1000 for n in range(1, 201)]
        print(f"article JSON (popover): p50 {statistics.median(art_times):.1f} ms, p95 {pct(art_times, 95):.1f} ms")


if __name__ == "__main__":
    main()
