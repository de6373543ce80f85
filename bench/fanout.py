"""Term-start fan-out: one reminder to each of N mediators through the real sender.

The term-start job fills the outbox; the sender posts through the real CloudAdapter over
HTTP to a fake Bot Connector that enforces Teams' per-tenant limit (30 requests a second)
and answers 429 with Retry-After beyond it. Printed: the achieved rate as a share of the
limit, 429s, duplicates and lost messages (counted at the connector), and the peak memory
of the process. The baseline in the same run is the same sender with its pacing lifted
(it posts as fast as it can and relies on 429s and back-off), on a smaller sample.

    .venv/bin/python -m bench.fanout                   # 10,000 mediators at 30/s (~6 min)
    .venv/bin/python -m bench.fanout --count 2000 --scale 10   # 300/s: see below

``--scale`` divides the limit's window (30 per 1/scale s), for the connector and the
sender alike. The sender's HTTP path (botbuilder's ConnectorClient on requests threads)
tops out at about 40-45 posts a second on a 2-CPU machine, so a scaled limit above that
measures the machine, not the pacing; the default is Teams' real limit.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import speed_up_msrest
from bot.settings import SendLimits
from jobs import term_start
from jobs.scheduler import JOBS, run_job
from storage.db import create_engine, upgrade
from storage.uow import session_factory
from tests.clock import FixedClock
from tests.fakes.connector import FakeConnector
from tests.integration.jobs_support import Jobs, delivered, mediator

TERM_START = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))


async def fan_out(count: int, scale: float, paced: bool, folder: Path) -> dict[str, float]:
    engine = create_engine(f"sqlite:///{folder / f'fanout-{count}-{paced}.db'}")
    await upgrade(engine)
    fake = FakeConnector()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    teams = SendLimits().scaled(scale)
    fake.tenant_limit = teams.per_tenant
    fake.retry_after = 1.0 / scale
    limits = teams if paced else SendLimits(per_tenant=((100_000, 1.0),)).scaled(scale)
    try:
        jobs = Jobs(session_factory(engine), FixedClock(TERM_START), fake, limits=limits)
        jobs.sender.clock = _RealClock()  # retries must become due in real time
        people = [mediator(f"m{i:06d}") for i in range(count)]
        await jobs.add_people(people)
        spec = next(j for j in JOBS if j.id == term_start.JOB_ID)
        queued = await run_job(jobs.ctx, spec)
        started = time.perf_counter()
        await jobs.sender.drain(timeout=count / teams.tenant_rate * 4 + 60, settle=True)
        elapsed = time.perf_counter() - started
        got = delivered(fake)
        wanted = {f"a:personal-29:{p.aad_object_id}" for p in people}
        return {
            "queued": queued,
            "seconds": elapsed,
            "rate": count / elapsed,
            "limit": teams.tenant_rate,
            "throttled": fake.throttled,
            "duplicates": sum(n - 1 for n in got.values() if n > 1),
            "lost": len(wanted - set(got)),
            "retried": jobs.sender.stats["retried"],
        }
    finally:
        await runner.cleanup()
        await engine.dispose()


class _RealClock:
    def now(self) -> datetime:
        return datetime.now(TERM_START.tzinfo)


def _report(name: str, r: dict[str, float]) -> None:
    print(
        f"{name:<10} {int(r['queued']):>6} msgs in {r['seconds']:7.1f} s = {r['rate']:6.1f}/s"
        f" = {r['rate'] / r['limit']:6.1%} of the {r['limit']:.0f}/s limit;"
        f" 429s {int(r['throttled'])}, retries {int(r['retried'])},"
        f" duplicates {int(r['duplicates'])}, lost {int(r['lost'])}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--baseline-count", type=int, default=600)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    speed_up_msrest()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"per-tenant limit: 30 per {1 / args.scale:g} s (Teams: 30 per 1 s)")
        baseline = await fan_out(args.baseline_count, args.scale, False, folder)
        _report("unpaced", baseline)
        paced = await fan_out(args.count, args.scale, True, folder)
        _report("paced", paced)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS of the whole process, both runs): {peak_mb:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
