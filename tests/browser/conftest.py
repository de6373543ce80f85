"""Sopu and the Microsoft 365 Agents Playground on free ports, for driving the UI in Chromium.

Sopu runs as `python -m bot serve` on a temporary SQLite file loaded with the demo bank
(development mode: no BOT_APP_ID, which the playground needs, since it signs nothing); the
playground runs from tests/browser/node_modules with a config generated from the same demo
people. Both run in their own process groups and are stopped at the end of the module.

Without /usr/bin/chromium, Node.js, the node packages or Python's playwright the tests are
skipped, unless SOPU_REQUIRE_BROWSER=1 (as in CI) turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from bot import playground as pg

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
START_TIMEOUT = 30.0


def missing_tools() -> str | None:
    """What this machine lacks for the browser tests, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium fonts-liberation)"
    if shutil.which("node") is None:
        return "Node.js is missing (apt-get install nodejs npm)"
    if pg.local_binary([ROOT]) is None:
        return "the Agents Playground is not installed (run `npm ci` in tests/browser)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is missing (pip install -e '.[dev]')"
    return None


def skip_or_fail(reason: str) -> None:
    if os.environ.get("SOPU_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SOPU_REQUIRE_BROWSER=1: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Playground:
    """A running Sopu and the playground talking to it."""

    url: str  # the playground's web UI and HTTP API
    sopu_url: str
    logs: Path

    @property
    def stream_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/_ws_conversation/v1/conversations/stream"


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} stopped with exit code {self.process.returncode}:\n{self.tail()}"
            )

    def stop(self) -> None:
        """SIGTERM to the whole process group (npx/node, or python), SIGKILL if it lingers."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
        # Anything the child left behind in its group goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _start(name: str, argv: list[str], env: dict[str, str], cwd: Path, logs: Path) -> _Child:
    log = logs / f"{name}.log"
    out: IO[bytes] = log.open("wb")
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    finally:
        out.close()
    return _Child(name, process, log)


def _wait_for(child: _Child, what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        child.check_alive()
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{child.name}: {what} not ready in {START_TIMEOUT:.0f} s:\n{child.tail()}")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def _sopu_env(database_url: str) -> dict[str, str]:
    """The test's environment without any Sopu or bot settings a developer may have set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOPU_", "BOT_")) and k != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=database_url,
        SOPU_ENV="development",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def start_playground(messages_url: str, work: Path, logs: Path) -> tuple[_Child, str]:
    """The Agents Playground talking to Sopu at ``messages_url``, with the demo's people;
    its process (stopped with ``stop()``) and the address of its UI and HTTP API."""
    config = pg.write_config(work / pg.CONFIG_FILE)
    argv = pg.command(messages_url, free_port(), [ROOT])
    assert argv is not None, "no Node.js"
    tester = _start("playground", argv, pg.environment(config), work, logs)
    try:
        # It takes another port when the asked one is busy, and says which.
        listening: list[int] = []

        def says_port() -> bool:
            found = re.search(r"Listening on (\d+)", tester.log.read_text(errors="replace"))
            if found:
                listening.append(int(found[1]))
            return bool(found)

        _wait_for(tester, "its port", says_port)
        url = f"http://127.0.0.1:{listening[0]}"
        _wait_for(tester, "/_debug/ping", lambda: _get(f"{url}/_debug/ping") == (200, "pong"))
    except BaseException:
        tester.stop()
        raise
    return tester, url


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    reason = missing_tools()
    if reason is not None:
        skip_or_fail(reason)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.log")]:
        old.unlink()
    work = tmp_path_factory.mktemp("playground")
    # The working folder holds no .env, so nothing of a developer's settings leaks in.
    env = _sopu_env(f"sqlite+aiosqlite:///{work / 'sopu.db'}")
    demo = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (ARTIFACTS / "demo.log").write_text(demo.stdout + demo.stderr, encoding="utf-8")
    assert demo.returncode == 0, demo.stdout + demo.stderr

    sopu_port = free_port()
    sopu_url = f"http://127.0.0.1:{sopu_port}"
    children: list[_Child] = []
    try:
        sopu = _start(
            "sopu",
            [sys.executable, "-m", "bot", "serve", "--port", str(sopu_port)],
            env,
            work,
            ARTIFACTS,
        )
        children.append(sopu)
        _wait_for(sopu, "/healthz", lambda: _get(f"{sopu_url}/healthz")[0] == 200)

        tester, url = start_playground(f"{sopu_url}/api/messages", work, ARTIFACTS)
        children.append(tester)
        yield Playground(url=url, sopu_url=sopu_url, logs=ARTIFACTS)
    finally:
        for child in reversed(children):
            child.stop()
