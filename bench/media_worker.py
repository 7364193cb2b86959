"""How many concurrently recorded participants one media worker sustains on this machine.

The worker (this process: a :class:`~mediation_room.media.worker.MediaWorker`, its asyncio loop on
a thread, as the site embeds it) records N participants at once. The participants are aiortc
peers in a separate process, each sending a synthetic camera (a moving pattern, VP8) and a tone
(Opus), as a browser sends its copy to the worker (half of 640×480 by default). For each N the run
prints the worker process's CPU use (100% = one core), the frames each participant sent, the
frames the worker received and wrote, and the frames lost on the way (network / decoder) or
dropped by the writer, then the largest N at which the worker kept up: at least 90% of the video
frames sent were written, and the writer dropped under 1%.

    .venv/bin/python bench/media_worker.py                 # N = 1, 2, 4; 4 s each (about 30 s)
    .venv/bin/python bench/media_worker.py --steps 1,2,4,6,8,10 --seconds 8 --width 640 --height 480

The sender process needs CPU too (it encodes every stream): on a 2-core machine the two compete,
so the figure is a floor for a worker with the machine to itself. Other load on the machine (the
load average is printed) lowers it further.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# Run as a script, bench/ would come first on sys.path, and its http.py would shadow the standard library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---- the participants' process ------------------------------------------------------------------

def senders(conn, n: int, width: int, height: int, fps: int, seconds: float) -> None:
    """Run n aiortc participants; offers go to the parent over ``conn``; report what was sent."""
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from mediation_room.media.testing import PatternVideoTrack, ToneAudioTrack

    async def main():
        pcs, tracks = [], []
        for i in range(n):
            pc = RTCPeerConnection()
            v, a = PatternVideoTrack(width, height, fps=fps, shade=(i * 37) % 200), ToneAudioTrack(300 + 40 * i)
            pc.addTrack(v)
            pc.addTrack(a)
            await pc.setLocalDescription(await pc.createOffer())
            conn.send(("offer", i, pc.localDescription.sdp))
            answer = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            await pc.setRemoteDescription(RTCSessionDescription(**answer))
            pcs.append(pc)
            tracks.append((v, a))
        conn.send(("ready", None, None))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "go": the worker is writing
        cpu0, t0 = _cpu_seconds(), time.monotonic()
        sent0 = [(v.sent, a.sent) for v, a in tracks]
        await asyncio.sleep(seconds)
        cpu = (_cpu_seconds() - cpu0) / (time.monotonic() - t0)
        sent = [(v.sent - s[0], a.sent - s[1]) for (v, a), s in zip(tracks, sent0)]
        conn.send(("sent", sent, cpu))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
        for pc in pcs:
            await pc.close()

    asyncio.run(main())


# ---- the worker's side -----------------------------------------------------------------------------

def run_step(n: int, args, folder: Path) -> dict:
    from mediation_room.media.worker import MediaWorker

    worker = MediaWorker(folder)
    key = f"bench-{n}"
    worker.start(key)
    parent, child = mp.Pipe()
    proc = mp.Process(target=senders, args=(child, n, args.width, args.height, args.fps, args.seconds))
    proc.start()
    try:
        while True:
            kind, i, sdp = parent.recv()
            if kind == "ready":
                break
            parent.send(worker.offer(key, f"p{i}", f"参与者{i}", sdp))
        settle_until = time.monotonic() + 15  # every connection up and every file being written
        while time.monotonic() < settle_until:
            st = worker.stats(key)
            if len(st) == n and all(s["written"].get("video", 0) > 0 for s in st.values()):
                break
            time.sleep(0.1)
        parent.send("go")
        stats0 = worker.stats(key)
        cpu0, t0 = _cpu_seconds(), time.monotonic()
        kind, sent, sender_cpu = parent.recv()
        wall = time.monotonic() - t0
        cpu = (_cpu_seconds() - cpu0) / wall
        stats1 = worker.stats(key)
        parent.send("stop")
        files = worker.stop(key)
    finally:
        proc.join(20)
        worker.shutdown()

    def delta(peer, part, kind):
        return stats1[peer][part].get(kind, 0) - stats0[peer][part].get(kind, 0)

    peers = sorted(stats1)
    video_sent = sum(s[0] for s in sent)
    received = sum(delta(p, "received", "video") for p in peers)
    written = sum(delta(p, "written", "video") for p in peers)
    dropped = sum(delta(p, "dropped", "video") for p in peers)
    audio_sent = sum(s[1] for s in sent)
    audio_rec = sum(delta(p, "received", "audio") for p in peers)
    return {
        "n": n, "cpu": cpu * 100, "sender_cpu": sender_cpu * 100,
        "fps_sent": video_sent / n / args.seconds, "fps_written": written / n / wall,
        "video_sent": video_sent, "received": received, "written": written,
        "lost": max(0, video_sent - received), "dropped": dropped,
        "audio_ok": audio_rec / audio_sent if audio_sent else 0.0,
        "files": len(files), "bytes": sum(f.path.stat().st_size for f in files if f.path.exists()),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", default="1,2,4", help="participant counts to try, comma-separated")
    p.add_argument("--seconds", type=float, default=4.0, help="measured seconds per step")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--fps", type=int, default=30)
    args = p.parse_args()
    steps = [int(x) for x in args.steps.split(",") if x.strip()]

    print(f"media worker benchmark: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"each participant sends {args.width}x{args.height} VP8 at {args.fps} fps + Opus; "
          f"{args.seconds:g} s per step")
    header = (f"{'N':>3} {'worker CPU':>10} {'sender CPU':>10} {'fps sent':>8} {'fps written':>11} "
              f"{'video sent':>10} {'written':>8} {'lost':>6} {'dropped':>7} {'audio rx':>8} {'MB':>6}")
    print(header)
    print("-" * len(header))
    best = 0
    folder = Path(tempfile.mkdtemp(prefix="media-bench-"))
    try:
        for n in steps:
            r = run_step(n, args, folder)
            ok = r["written"] >= 0.9 * r["video_sent"] and r["dropped"] <= 0.01 * max(1, r["received"])
            best = n if ok else best
            print(f"{r['n']:>3} {r['cpu']:>9.0f}% {r['sender_cpu']:>9.0f}% {r['fps_sent']:>8.1f} "
                  f"{r['fps_written']:>11.1f} {r['video_sent']:>10} {r['written']:>8} {r['lost']:>6} "
                  f"{r['dropped']:>7} {r['audio_ok']:>7.0%} {r['bytes'] / 1e6:>6.1f}  {'ok' if ok else 'FALLS BEHIND'}",
                  flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"sustained: {best} concurrently recorded participant(s) at {args.width}x{args.height} "
          f"(>= 90% of video frames written, < 1% dropped by the writer); load average now "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
