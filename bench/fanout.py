"""Term-start fan-out: one reminder to each of N mediators through the real sender.

The term-start job fills the outbox; the sender posts through the real CloudAdapter over
HTTP to a fake Bot Connector that enforces Teams' per-tenant limit (30 requests a second)
and answers 429 with Retry-After beyond it. The fake runs in a process of its own, as
Teams would: in the sender's process it would take turns with it on one event loop, and
its own slowness would look like the sender's. Printed: the achieved rate as a share of
the limit, 429s, duplicates and lost messages (counted at the connector), and the peak
memory of the sender's process. The baseline in the same run is the same sender with its
pacing lifted (it posts as fast as it can and relies on 429s and back-off), on a smaller
sample.

    .venv/bin/python -m bench.fanout              # 10,000 mediators at 30/s (about 6 min)
    .venv/bin/python -m bench.fanout --quick      # 900 mediators at 30/s (about 40 s)
    .venv/bin/python -m bench.fanout --count 2000 --scale 10   # 300/s: see below
    .venv/bin/python -m bench.fanout --restart    # the sender stopped halfway, a new one
                                                  # takes over (0 duplicates, 0 lost)

``--scale`` divides the limit's window (30 per 1/scale s), for the connector and the
sender alike. The sender's HTTP path (botbuilder's ConnectorClient on requests threads)
tops out at about 40-45 posts a second on a 2-CPU machine, so a scaled limit above that
measures the machine, not the pacing; the default is Teams' real limit.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.bootstrap import settle_heap
from bot.framework.adapter import speed_up_msrest
from bot.sender import Sender
from bot.settings import SendLimits
from jobs import term_start
from jobs.scheduler import JOBS, run_job
from storage.db import create_engine, upgrade
from storage.uow import session_factory
from tests.clock import FixedClock
from tests.fakes.connector import FakeConnector
from tests.integration.jobs_support import Jobs, delivered, mediator

TERM_START = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
ROOT = Path(__file__).resolve().parents[1]


# -- the fake Bot Connector, in its own process ----------------------------------------------


async def _serve_connector(scale: float) -> None:
    """Child side: READY {port} once listening; DONE {what arrived} after stdin closes."""
    if os.environ.get("FANOUT_CONNECTOR_GC") != "1":
        # The fake keeps every activity it got; Python's collector walking that growing
        # heap stalls this process for 100 ms and more, and the posts queued meanwhile
        # are then counted as arriving together, which Teams' own clock would not do.
        gc.disable()
    fake = FakeConnector()
    fake.tenant_limit = SendLimits().scaled(scale).per_tenant
    fake.retry_after = 1.0 / scale
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    print("READY " + json.dumps({"url": fake.url}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {"delivered": delivered(fake), "throttled": fake.throttled, "peak_mb": peak_mb}
    print("DONE " + json.dumps(summary), flush=True)
    await runner.cleanup()


class ConnectorProcess:
    """The parent's handle on the fake connector's process."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def __aenter__(self) -> ConnectorProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fanout",
            "--serve-connector",
            "--scale",
            str(self.scale),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,
        )
        self.url = (await asyncio.wait_for(self._line("READY"), 60))["url"]
        return self

    async def _line(self, tag: str) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            if line.startswith(tag.encode() + b" "):
                found: dict[str, Any] = json.loads(line[len(tag) + 1 :])
                return found
        raise RuntimeError(f"the fake connector stopped before {tag}")

    async def finish(self) -> dict[str, Any]:
        """Stop it and return what it received."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        summary = await asyncio.wait_for(self._line("DONE"), 60)
        await asyncio.wait_for(self.proc.wait(), 30)
        return summary

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


# -- one fan-out -----------------------------------------------------------------------------


async def fan_out(
    count: int, scale: float, paced: bool, folder: Path, restart: bool = False
) -> dict[str, float]:
    engine = create_engine(f"sqlite:///{folder / f'fanout-{count}-{paced}.db'}")
    await upgrade(engine)
    teams = SendLimits().scaled(scale)
    limits = teams if paced else SendLimits(per_tenant=((100_000, 1.0),)).scaled(scale)
    try:
        async with ConnectorProcess(scale) as connector:
            fake = FakeConnector(url=connector.url)  # only its URL: the fake runs over there
            jobs = Jobs(session_factory(engine), FixedClock(TERM_START), fake, limits=limits)
            try:
                jobs.sender.clock = _RealClock()  # retries must become due in real time
                people = [mediator(f"m{i:06d}") for i in range(count)]
                await jobs.add_people(people)
                spec = next(j for j in JOBS if j.id == term_start.JOB_ID)
                queued = await run_job(jobs.ctx, spec)
                settle_heap()  # as the app does once it has started
                started = time.perf_counter()
                timeout = count / teams.tenant_rate * 4 + 60
                if restart:
                    await _stop_halfway(jobs, count)
                    # A new sender, as a restarted replica has: nothing of the first one's
                    # memory.
                    jobs.sender = Sender(
                        jobs.outbox, jobs.sender.postman, _RealClock(), limits, poll_seconds=0.05
                    )
                await jobs.sender.drain(timeout=timeout, settle=True)
                elapsed = time.perf_counter() - started
            finally:
                await jobs.bot_connector.close()  # its HTTP session, as the app's shutdown does
            summary = await connector.finish()
        got: dict[str, int] = summary["delivered"]
        wanted = {f"a:personal-29:{p.aad_object_id}" for p in people}
        return {
            "queued": queued,
            "seconds": elapsed,
            "rate": count / elapsed,
            "limit": teams.tenant_rate,
            "throttled": summary["throttled"],
            "duplicates": sum(n - 1 for n in got.values() if n > 1),
            "lost": len(wanted - set(got)),
            "retried": jobs.sender.stats["retried"],
            "connector_mb": summary["peak_mb"],
        }
    finally:
        await engine.dispose()


async def _stop_halfway(jobs: Jobs, count: int) -> None:
    """Run the sender until half the messages are sent, then stop it mid-stream."""
    running = asyncio.create_task(jobs.sender.run())
    try:
        while await jobs.outbox.unfinished() > count // 2:
            if running.done():
                running.result()
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


class _RealClock:
    def now(self) -> datetime:
        return datetime.now(TERM_START.tzinfo)


def _report(name: str, r: dict[str, float]) -> None:
    print(
        f"{name:<10} {int(r['queued']):>6} msgs in {r['seconds']:7.1f} s = {r['rate']:6.1f}/s"
        f" = {r['rate'] / r['limit']:6.1%} of the {r['limit']:.0f}/s limit;"
        f" 429s {int(r['throttled'])}, retries {int(r['retried'])},"
        f" duplicates {int(r['duplicates'])}, lost {int(r['lost'])}",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--baseline-count", type=int, default=None)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="900 messages, 100 unpaced")
    parser.add_argument(
        "--restart", action="store_true", help="stop the paced run's sender halfway, start another"
    )
    parser.add_argument("--serve-connector", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_connector:
        await _serve_connector(args.scale)
        return
    count = args.count or (900 if args.quick else 10_000)
    baseline_count = args.baseline_count or (100 if args.quick else 600)
    logging.basicConfig(level=logging.ERROR)
    speed_up_msrest()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"per-tenant limit: 30 per {1 / args.scale:g} s (Teams: 30 per 1 s)", flush=True)
        baseline = await fan_out(baseline_count, args.scale, False, folder)
        _report("unpaced", baseline)
        paced = await fan_out(count, args.scale, True, folder, restart=args.restart)
        _report("paced, sender restarted halfway" if args.restart else "paced", paced)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory: the sender's process {peak_mb:.0f} MB (both runs), "
        f"the fake connector's {paced['connector_mb']:.0f} MB"
    )


if __name__ == "__main__":
    asyncio.run(main())
