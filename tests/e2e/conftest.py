"""The real local stack (`python -m local`) in a subprocess, spoken to over HTTP."""
import collections
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, process, base, demo, log=None):
        self.process, self.base, self.demo = process, base, demo
        self.log = log if log is not None else collections.deque()

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def json(self, method, path, body=None, headers=None):
        status, headers, raw = self.request(method, path, body, headers)
        return status, json.loads(raw)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def drain(process, keep: int = 400) -> collections.deque:
    """Keep reading the stack's output (an access-log line per request) for as long as it runs: a pipe
    nobody reads fills up, and then every request hangs. The last `keep` lines stay for diagnosis."""
    lines: collections.deque = collections.deque(maxlen=keep)
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    return lines


def start_stack(tmp_path, *extra_args: str, timeout: float = 90):
    """`python -m local` on a free port (`extra_args` such as `--history 600`), once it prints `ready`."""
    port = free_port()
    demo_file = tmp_path / "demo.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QALQAN_", "TABLE_", "WEB_", "QR_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--port", str(port), "--demo-file", str(demo_file), *extra_args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("ready"):
            return Stack(process, f"http://127.0.0.1:{port}", json.loads(demo_file.read_text()), drain(process)), lines
    process.kill()
    raise RuntimeError("local stack did not get ready:\n" + "".join(lines))


def wait_for(what: str, probe, timeout: float = 10.0):
    """Poll `probe` until it returns something truthy; the reactions run asynchronously, like in AWS."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s, _ = start_stack(tmp_path_factory.mktemp("stack"))
    yield s
    s.process.terminate()
    s.process.wait(timeout=20)
