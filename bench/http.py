"""HTTP throughput and latency of the portal under its production server (issue 8).

Starts gunicorn exactly as scripts/serve.sh does (gthread, 1 worker, many threads) on a copy of the
demo site (SQLite), and measures, with C concurrent keep-alive clients for S seconds each:

  1. a bare Flask "hello" app under the same server      (the baseline)
  2. the portal home page                                  (one process)
  3. the case-library search page with a Chinese query     (one process)
  4. the home page and the search page on two processes    (clients spread over both)

and prints requests/s, p50 and p99 latency, and each figure's ratio to the baseline.
The load generator runs in this process (threads + http.client); on a 2-core machine it competes
with the servers for CPU, so the absolute figures are a floor; the ratios are the point.

    .venv/bin/python bench/http.py [--seconds 8] [--clients 16]
"""
from __future__ import annotations

import os
import sys

# Run as a script, this file's folder is first on sys.path and would shadow the standard library's
# http package with this very file.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import http.client  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.scale.servers import free_port  # noqa: E402

QUERIES = ["宅基地", "彩礼 返还", "工资 拖欠", "物业费", "交通事故 赔偿", "邻里 漏水", "医疗 纠纷", "借款"]


def load(urls: list[str], seconds: float, clients: int) -> dict:
    """C threads, each with its own keep-alive connection, cycling through ``urls``."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n: int):
        nonlocal errors
        mine, bad = [], 0
        conns: dict[str, http.client.HTTPConnection] = {}
        i = n
        while time.monotonic() < stop_at:
            url = urllib.parse.urlsplit(urls[i % len(urls)])
            i += 1
            conn = conns.get(url.netloc) or http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            conns[url.netloc] = conn
            t0 = time.perf_counter()
            try:
                conn.request("GET", url.path + (f"?{url.query}" if url.query else ""))
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad += 1
                mine.append(time.perf_counter() - t0)
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conns.pop(url.netloc, None)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {"rps": len(latencies) / elapsed, "p50": q[49] * 1000, "p99": q[98] * 1000,
            "n": len(latencies), "errors": errors}


def gunicorn(app_module: str, env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--worker-class", "gthread", "--workers", "1",
         "--threads", "100", "--bind", f"127.0.0.1:{port}", app_module],
        cwd=cwd, env=dict(os.environ, **env), stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    import requests

    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
            break
        except requests.RequestException:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    else:
        proc.kill()
        raise SystemExit(f"gunicorn {app_module} did not start; see {log}")
    if proc.poll() is not None:
        raise SystemExit(f"gunicorn {app_module} exited; see {log}:\n{log.read_text()[-2000:]}")
    proc.url = f"http://127.0.0.1:{port}"
    return proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
    env = {"FLASK_APP": "wsgi.py", "INSTANCE_PATH": str(tmp / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "SECRET_KEY": "bench",
           "UPLOAD_FOLDER": str(tmp / "uploads"), "INDEX_FOLDER": str(tmp / "index")}
    flask = [str(Path(sys.executable).with_name("flask"))]
    print("preparing the demo site (migrate + demo data)…", flush=True)
    subprocess.run(flask + ["db", "upgrade", "heads"], cwd=ROOT, env=dict(os.environ, **env), check=True,
                   capture_output=True)
    subprocess.run(flask + ["demo", "load"], cwd=ROOT, env=dict(os.environ, **env), check=True, capture_output=True)

    procs = []
    try:
        # imported as bench.hello_app from the project root: with bench/ itself on gunicorn's path, this
        # file (bench/http.py) would shadow the standard library's http package inside the server
        hello = gunicorn("bench.hello_app:app", {}, tmp / "hello.log", ROOT)
        procs.append(hello)
        one = gunicorn("wsgi:app", env, tmp / "one.log", ROOT)
        two = gunicorn("wsgi:app", env, tmp / "two.log", ROOT)
        procs += [one, two]
        search = [f"/cases/?q={urllib.parse.quote(q)}" for q in QUERIES]
        runs = [
            ("bare Flask hello (baseline)", [hello.url + "/"]),
            ("portal home page, 1 process", [one.url + "/"]),
            ("case search page, 1 process", [one.url + s for s in search]),
            ("portal home page, 2 processes", [one.url + "/", two.url + "/"]),
            ("case search page, 2 processes", [u + s for s in search for u in (one.url, two.url)]),
        ]
        for _, urls in runs:  # warm caches (jieba, index readers, templates)
            load(urls, 1.0, 4)
        print(f"\n{args.clients} concurrent keep-alive clients, {args.seconds:.0f} s each, gunicorn gthread "
              f"1 worker × 100 threads per process, {os.cpu_count()} cores\n")
        print(f"{'what':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs baseline':>12}")
        base = None
        for name, urls in runs:
            r = load(urls, args.seconds, args.clients)
            base = base or r["rps"]
            print(f"{name:34} {r['rps']:8.1f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:7d} "
                  f"{r['rps'] / base:11.2f}x", flush=True)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
