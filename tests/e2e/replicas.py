"""Sopu as it runs in production: ``python -m bot serve`` processes that can be killed.

The tests in this folder mostly run the app inside the test's own process; the crash tests
need real processes, killed with SIGKILL mid-burst and started again on the same database.
Each replica's log goes to a file of its own, so a test can read every line it wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp

from tests.e2e.conftest import CHANNEL, PEOPLE, TEAM, TENANT, Person, answer_card

ROOT = Path(__file__).resolve().parents[2]
READY_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sopu_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a replica: the test's allow-lists, a short claim lease."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPU_", "BOT_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "SOPU_ALLOWED_TENANTS": TENANT,
        "SOPU_ALLOWED_TEAMS": TEAM,
        "SOPU_ALLOWED_CHANNELS": CHANNEL,
        "SOPU_VAR_DIR": str(var_dir),
        # What a killed replica held is taken back by the others (or itself) within seconds.
        "SOPU_SEND_CLAIM_LEASE": "4",
        **extra,
    }
    return env


def import_registry(env: dict[str, str], workdir: Path, people: Sequence[Person] = PEOPLE) -> None:
    """The registry through the command line, as a county loads it."""
    rows = ["aad_object_id,name,email,employer,languages,experienced,role,active"]
    for p in people:
        rows.append(
            f"{p.aad},{p.name},{p.key}@example.org,Hyvinkää,{p.languages},"
            f"{'yes' if p.experienced else 'no'},{p.role.value},yes"
        )
    csv = workdir / "registry.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "mediators", "import", str(csv)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@dataclass
class Replica:
    """One ``python -m bot serve`` process on a port of its own."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self, http: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_SECONDS
        while loop.time() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log()
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with http.get(f"{self.url}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} did not start:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing flushed that was not flushed already."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_log()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


async def deliver(
    http: aiohttp.ClientSession, replica: Replica, activity: dict[str, Any], timeout: float = 20.0
) -> tuple[int, Any] | None:
    """Post one activity as Teams does; None when no answer came (refused, cut, timed out)."""
    try:
        async with http.post(
            f"{replica.url}/api/messages",
            json=activity,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            status = resp.status
            body = await resp.json(content_type=None) if status == 200 else await resp.text()
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None
    return status, body


def card_answer(answer: tuple[int, Any] | None) -> dict[str, Any] | None:
    """The card of a card click's answer, or None if Teams got no answer to show."""
    if answer is None or answer[0] != 200:
        return None
    return answer_card(*answer)


def new_activity_id() -> str:
    return f"act-{uuid.uuid4().hex}"
