"""The real Agents Playground, started with Sopu's generated config."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot import demo, playground

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_BIN = ROOT / "tests" / "browser" / "node_modules" / ".bin" / "agentsplayground"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("node") is None or not PLAYGROUND_BIN.is_file(),
        reason="needs Node.js and `npm ci` in tests/browser",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 20) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode())


def wait_for_pong(base: str, child: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert child.poll() is None, "the playground exited (it refuses a bad config so)"
        try:
            if get(f"{base}/_debug/ping") == "pong":
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "the playground never answered"
        time.sleep(0.3)


class _Anything(BaseHTTPRequestHandler):
    def _ok(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_POST = _ok

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def bot_endpoint() -> Iterator[str]:
    """Something listening where the bot would be: the playground's config API waits for it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Anything)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/messages"
    finally:
        server.shutdown()
        server.server_close()


def playground_errors(folder: Path) -> list[str]:
    log = (folder / "devTools" / "m365agentsplayground.log").read_text(encoding="utf-8")
    return [line for line in log.splitlines() if line.startswith("error ")]


def test_the_playground_accepts_the_generated_config(tmp_path: Path, bot_endpoint: str) -> None:
    """It checks the file only once it listens, so it must still be up afterwards."""
    path = playground.write_config(tmp_path / playground.CONFIG_FILE)
    port = free_port()
    argv = playground.command(bot_endpoint, port, [ROOT])
    assert argv is not None and argv[0] == str(PLAYGROUND_BIN)
    child = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=playground.environment(path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_pong(base, child)
        seen = json.loads(get(f"{base}/_internal/v1/config"))["config"]
        assert seen["currentUser"]["aadObjectId"] == demo.CURRENT_USER.aad_object_id
        assert [u["name"] for u in seen["users"]] == [p.name for p in demo.PLAYGROUND_PEOPLE[1:]]
        team = urllib.parse.quote(playground.PlaygroundTeam().id, safe="")
        channels = json.loads(get(f"{base}/_connector/v3/teams/{team}/conversations"))
        assert [c.get("name") for c in channels["conversations"]] == [None, "Cases"]
        time.sleep(1)
        assert child.poll() is None
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=15)
    assert playground_errors(tmp_path) == []


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


def test_run_dev_brings_up_sopu_and_the_playground_and_ctrl_c_stops_both(
    tmp_path: Path,
) -> None:
    sopu_port, playground_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOPU_", "BOT_")) and k != "DATABASE_URL"
    }
    env |= {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'sopu.db'}",
        "SOPU_PORT": str(sopu_port),
        "SOPU_PLAYGROUND_PORT": str(playground_port),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "run-dev"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{playground_port}"
    try:
        deadline = time.monotonic() + 90
        while (
            status(f"http://127.0.0.1:{sopu_port}/healthz") != 200
            or status(f"{base}/_debug/ping") != 200
        ):
            assert child.poll() is None, child.communicate()[0].decode()
            assert time.monotonic() < deadline, "run-dev did not come up"
            time.sleep(0.3)
        seen = json.loads(get(f"{base}/_internal/v1/config"))["config"]
        assert seen["currentUser"]["name"] == demo.CURRENT_USER.name
    finally:
        child.send_signal(signal.SIGINT)
        output = child.communicate(timeout=30)[0].decode()
    assert child.returncode == 0, output
    assert f"Open http://localhost:{playground_port} in your browser" in output
    assert f"You are {demo.CURRENT_USER.name}" in output
    assert "demo data loaded" in output
    assert (tmp_path / "var" / "playground" / playground.CONFIG_FILE).is_file()
    assert status(f"{base}/_debug/ping") is None, "the playground outlived run-dev"
