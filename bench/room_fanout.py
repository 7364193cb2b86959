#!/usr/bin/env python
"""Fan-out benchmark of the mediation room (issue 5).

N clients (default 200) in M rooms (default 20) each send one message a second over WebSocket;
every message is delivered to every client of its room. Prints deliveries per second and the
p50/p99 latency from send to delivery, for

* ``full``   – the real site (Flask-SocketIO, login session, permission checks, sequence number
  and the message stored in SQLite before the broadcast), in the async mode given by --modes;
* ``bare``   – a bare python-socketio server that only relays to the room (same transport, same
  async mode), measured in the same run,

with the ratio of the two; then it steps the per-client rate up and prints the highest rate at
which p99 stays under 100 ms. Each server runs in its own process; the clients share this one.

    .venv/bin/python bench/room_fanout.py                    # threading, 10 s per measurement
    .venv/bin/python bench/room_fanout.py --modes threading gevent --seconds 10
    .venv/bin/python bench/room_fanout.py --clients 50 --rooms 5 --seconds 5 --no-step

Not part of the test suite; run it by hand on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds other scripts (one is named http.py): keep it off the path so the standard library wins
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
FIELD_KEY = "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E="
PASSWORD = "Bench2026pass"
UA = "room-bench/1.0"
WAL = False
SERVER_LOG = False


# ---- servers (each in its own process) ---------------------------------------------------------------

def app_config(db_path: str, mode: str) -> dict:
    return {
        "TESTING": False, "SECRET_KEY": SECRET, "FIELD_ENCRYPTION_KEY": FIELD_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SOCKETIO_ASYNC_MODE": mode,
        "UPLOAD_FOLDER": str(Path(db_path).parent / "uploads"), "INDEX_FOLDER": str(Path(db_path).parent / "index"),
        "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
        "ROOM_RATE_LIMIT": 1_000_000, "ROOM_RATE_WINDOW": 1.0,
    }


def serve(kind: str, mode: str, db_path: str) -> None:
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    import logging

    logging.disable(logging.WARNING)
    if kind == "bare":
        import socketio

        sio = socketio.Server(async_mode=mode, logger=False, engineio_logger=False)
        wsgi = socketio.WSGIApp(sio)

        @sio.on("connect", namespace="/room")
        def connect(sid, environ, auth):
            sio.enter_room(sid, f"room:{auth['room_id']}", namespace="/room")

        seqs: dict = {}
        lock = threading.Lock()

        @sio.on("send", namespace="/room")
        def send(sid, data):
            room = sio.rooms(sid, namespace="/room")
            key = next(r for r in room if r.startswith("room:"))
            with lock:
                seqs[key] = seqs.get(key, 0) + 1
                seq = seqs[key]
                sio.emit("chat", {"seq": seq, "text": data["text"]}, to=key, namespace="/room")
            return {"ok": True, "seq": seq}
    else:
        os.environ["SOCKETIO_ASYNC_MODE"] = mode
        from portal import create_app

        wsgi = create_app(app_config(db_path, mode))
        if WAL:  # what a SQLite deployment would configure: no fsync on every commit
            from sqlalchemy import event

            from portal.extensions import db

            with wsgi.app_context():
                @event.listens_for(db.engine, "connect")
                def _sqlite_pragmas(dbapi_conn, _record):
                    dbapi_conn.execute("PRAGMA journal_mode=WAL")
                    dbapi_conn.execute("PRAGMA synchronous=NORMAL")

                db.engine.dispose()
        logging.disable(logging.NOTSET if SERVER_LOG else logging.WARNING)
    if mode == "gevent":
        from gevent import pywsgi

        server = pywsgi.WSGIServer(("127.0.0.1", 0), wsgi, log=None, error_log=None)
        server.start()
        print(f"PORT {server.server_port}", flush=True)
        server.serve_forever()
    else:
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, wsgi, threaded=True)
        print(f"PORT {server.server_port}", flush=True)
        server.serve_forever()


def start_server(kind: str, mode: str, db_path: str):
    cmd = [sys.executable, __file__, "--serve", kind, "--mode", mode, "--db", db_path]
    if WAL:
        cmd.append("--sqlite-wal")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None if SERVER_LOG else subprocess.DEVNULL,
                            text=True, cwd=str(ROOT))
    line = proc.stdout.readline()
    m = re.match(r"PORT (\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"{kind}/{mode} server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{m.group(1)}"


# ---- data for the full site ---------------------------------------------------------------------------

def prepare_site(db_path: str, n_clients: int, n_rooms: int) -> list[tuple[str, int]]:
    """Users and rooms (everyone admitted); returns (mobile, room id) per client."""

    from werkzeug.security import generate_password_hash

    from mediation_room import operations as ops
    from portal import create_app
    from portal.accounts.models import Role, RoleGrant, User
    from portal.extensions import db
    from portal.places.models import Organisation, Region

    app = create_app(app_config(db_path, "threading"))
    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    out = []
    with app.app_context():
        db.create_all()
        region = Region(code="220102001000", name="南岭街道", level=4)
        db.session.add(region)
        db.session.flush()
        org = Organisation(name="压测调委会", kind="township", region_id=region.id)
        org.dispute_types = ["其他"]
        db.session.add(org)
        db.session.flush()
        users = []
        for i in range(n_clients):
            u = User(mobile=f"136{i:08d}", password_hash=cheap, real_name=f"用户{i}")
            db.session.add(u)
            users.append(u)
        db.session.flush()
        per_room = n_clients // n_rooms
        for r in range(n_rooms):
            group = users[r * per_room:(r + 1) * per_room]
            mediator, parties = group[0], group[1:]
            db.session.add(RoleGrant(user_id=mediator.id, role=Role.mediator.value, organisation_id=org.id))
            db.session.flush()
            room = ops.create_room(mediator, f"压测调解室{r}", mediator, parties)
            for p in parties:
                ops.admit_member(mediator, room, p.id)
            out.extend((u.mobile, room.id) for u in group)
        db.session.commit()
    return out


def login(base: str, mobile: str) -> str:
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = UA
    r = s.post(f"{base}/login", data={"mobile": mobile, "password": PASSWORD}, allow_redirects=False, timeout=30)
    if r.status_code not in (302, 303):
        raise SystemExit(f"login failed for {mobile}: {r.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


# ---- clients -----------------------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.recording = False
        self.errors = 0

    def add(self, ms: float):
        if self.recording:
            with self.lock:
                self.latencies.append(ms)


def connect_clients(base: str, targets: list[tuple[str | None, int]], stats: Stats):
    import logging

    import socketio

    # clients closing under load log "packet queue is empty, aborting": not a finding
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    logging.getLogger("socketio.client").setLevel(logging.CRITICAL)

    clients = []

    def on_chat(m):
        try:
            ts = float(m["text"].split("|", 1)[0])
        except (KeyError, ValueError):
            return
        stats.add((time.time() - ts) * 1000)

    for cookie, room_id in targets:
        c = socketio.Client(reconnection=False)
        c.on("chat", on_chat, namespace="/room")
        headers = {"User-Agent": UA}
        if cookie:
            headers["Cookie"] = cookie
        c.connect(base, namespaces=["/room"], transports=["websocket"], auth={"room_id": room_id},
                  headers=headers, wait_timeout=30)
        if cookie:  # the full site: enter the conversation
            ack = c.call("join", {"after": 10**9}, namespace="/room", timeout=30)
            if not ack.get("ok"):
                raise SystemExit(f"join refused: {ack}")
        clients.append(c)
    return clients


def close_all(clients, timeout: float = 10.0) -> None:
    """Disconnect every client, giving up after ``timeout`` (an overloaded server may never answer)."""

    def close(c):
        try:
            c.disconnect()
        except Exception:  # noqa: BLE001, S110 - a client already dropped by the server
            pass

    threads = [threading.Thread(target=close, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    deadline = time.time() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.time()))


def measure(clients, stats: Stats, rate: float, seconds: float) -> dict:
    """Each client sends ``rate`` messages a second, spread evenly; returns the figures."""
    stats.latencies = []
    n = len(clients)
    interval = 1.0 / (rate * n)
    stop = time.time() + seconds + 1.0
    warm_end = time.time() + 1.0

    def nack(*_):
        pass

    i = 0
    next_t = time.time()
    started = None
    while True:
        now = time.time()
        if now >= stop:
            break
        if now >= warm_end and not stats.recording:
            stats.recording = True
            started = now
        if now < next_t:
            time.sleep(min(next_t - now, 0.005))
            continue
        c = clients[i % n]
        i += 1
        next_t += interval
        try:
            c.emit("send", {"text": f"{time.time():.6f}|压测消息"}, namespace="/room", callback=nack)
        except Exception:  # noqa: BLE001 - counted; a dropped client must not stop the run
            stats.errors += 1
    time.sleep(1.0)  # let the last deliveries land
    stats.recording = False
    lat = sorted(stats.latencies)
    dur = (stop - (started or stop)) or 1.0
    if not lat:
        return {"rate": rate, "deliveries_s": 0, "p50": float("inf"), "p99": float("inf"), "n": 0}
    return {"rate": rate, "deliveries_s": len(lat) / dur, "p50": statistics.median(lat),
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))], "n": len(lat)}


def fmt(r: dict) -> str:
    return (f"rate {r['rate']:>4.1f}/s/client  deliveries {r['deliveries_s']:8.0f}/s  "
            f"p50 {r['p50']:7.1f} ms  p99 {r['p99']:8.1f} ms")


def run_kind(kind: str, mode: str, args, workdir: Path) -> dict:
    db_path = str(workdir / f"{kind}-{mode}.sqlite3")
    targets: list[tuple[str | None, int]]
    if kind == "full":
        plan = prepare_site(db_path, args.clients, args.rooms)
    proc, base = start_server(kind, mode, db_path)
    try:
        if kind == "full":
            targets = [(login(base, mobile), room_id) for mobile, room_id in plan]
        else:
            per = args.clients // args.rooms
            targets = [(None, i // per + 1) for i in range(args.clients)]
        stats = Stats()
        clients = connect_clients(base, targets, stats)
        time.sleep(0.5)
        base_result = measure(clients, stats, args.rate, args.seconds)
        print(f"  {kind:<5} {mode:<9} {fmt(base_result)}", flush=True)
        best = None
        if args.step:
            rate = args.rate
            while rate <= args.max_rate:
                rate = round(rate * 1.5, 2) if rate >= 2 else rate + 1
                r = measure(clients, stats, rate, args.step_seconds)
                ok = r["p99"] < 100
                print(f"    step {fmt(r)}  {'ok' if ok else 'p99 ≥ 100 ms'}", flush=True)
                if not ok:
                    break
                best = r
            if best is None and base_result["p99"] < 100:
                best = base_result
        close_all(clients)
        return {"base": base_result, "best": best}
    finally:
        proc.kill()
        proc.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--rooms", type=int, default=20)
    p.add_argument("--rate", type=float, default=1.0, help="messages per second per client")
    p.add_argument("--seconds", type=float, default=10.0, help="length of the main measurement")
    p.add_argument("--step-seconds", type=float, default=5.0, help="length of each step of the rate search")
    p.add_argument("--max-rate", type=float, default=12.0)
    p.add_argument("--no-step", dest="step", action="store_false")
    p.add_argument("--modes", nargs="+", default=["threading"], choices=["threading", "gevent"])
    p.add_argument("--sqlite-wal", action="store_true",
                   help="full site: SQLite in WAL mode with synchronous=NORMAL (default: the site's own settings)")
    p.add_argument("--server-log", action="store_true", help="show the servers' error output")
    p.add_argument("--serve", choices=["full", "bare"], help=argparse.SUPPRESS)
    p.add_argument("--mode", default="threading", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    args = p.parse_args()
    global WAL, SERVER_LOG
    WAL, SERVER_LOG = args.sqlite_wal, args.server_log
    if args.serve:
        serve(args.serve, args.mode, args.db)
        return
    print(f"{args.clients} clients in {args.rooms} rooms, {args.rate} msg/s each, "
          f"{args.seconds:.0f} s per measurement ({os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}{', SQLite WAL' if WAL else ''})")
    with tempfile.TemporaryDirectory(prefix="room-bench-") as tmp:
        results = {}
        for mode in args.modes:
            for kind in ("full", "bare"):
                results[(kind, mode)] = run_kind(kind, mode, args, Path(tmp))
        print("\nsummary")
        for mode in args.modes:
            full, bare = results[("full", mode)], results[("bare", mode)]
            fb, bb = full["base"], bare["base"]
            print(f"  {mode}: full p99 {fb['p99']:.1f} ms vs bare {bb['p99']:.1f} ms "
                  f"(ratio {fb['p99'] / max(bb['p99'], 0.001):.2f}x); p50 ratio "
                  f"{fb['p50'] / max(bb['p50'], 0.001):.2f}x; deliveries/s ratio "
                  f"{fb['deliveries_s'] / max(bb['deliveries_s'], 1):.2f}")
            for kind in ("full", "bare"):
                best = results[(kind, mode)]["best"]
                if args.step:
                    print(f"    {kind}: highest rate with p99 < 100 ms: "
                          + (f"{best['rate']} msg/s/client ({best['deliveries_s']:.0f} deliveries/s)" if best else "none"))


if __name__ == "__main__":
    main()
