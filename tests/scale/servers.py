"""Starting real server processes (gunicorn, as in production) for the scale-out tests."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, env: dict, log_path: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 40) -> "ServerProcess":
        env = dict(os.environ, **self.env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [GUNICORN, "--worker-class", "gthread", "--workers", "1", "--threads", "60",
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "60", "--graceful-timeout", "2", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not start: {self.log_path.read_text(errors='replace')[-3000:]}")

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        if getattr(self, "_log", None):
            self._log.close()


def http_login(base_url: str, mobile: str, password: str) -> requests.Session:
    """Log in through the real login form (CSRF token included); the session carries the cookie."""
    s = requests.Session()
    page = s.get(base_url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page)
    resp = s.post(base_url + "/login", data={"mobile": mobile, "password": password,
                                             "csrf_token": token.group(1)}, allow_redirects=False, timeout=10)
    assert resp.status_code == 302, f"login failed for {mobile}: {resp.status_code}"
    return s


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)
