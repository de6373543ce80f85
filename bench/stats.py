"""The year's statistics over 100,000 generated cases on SQLite and PostgreSQL.

    .venv/bin/python -m bench.stats                 # 100,000 cases, both databases
    .venv/bin/python -m bench.stats --cases 20000   # smaller
    .venv/bin/python -m bench.stats --no-postgres

Ten years of a national-scale service: 10,000 cases a year with seats, 3-5 meetings each,
mediators' and clients' feedback. Prints the time of ``SqlStatsQueries.year`` for one
year (best and median of five runs; aim: under 1 s) beside a baseline in the same run:
the same year's cases loaded as ORM objects with their seats and meetings and counted in
Python (only families by term, status and outcome and the held minutes, far less than
the real figures), which is what the SQL aggregation replaces.

PostgreSQL is reached at SOPU_TEST_POSTGRES_URL (default the local server); the run makes
a database of its own and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import selectinload

from mediation.policy import BankPolicy
from storage.db import create_engine, reports_engine, upgrade
from storage.models import CaseRow, MediatorRow, MeetingRow, SeatRow
from storage.models_feedback import CaseFeedbackRow, ClientAnswerRow, ClientLinkRow
from storage.stats import SqlStatsQueries
from storage.uow import session_factory

POLICY = BankPolicy()
AREAS = ("Tuusula", "Kerava", "Järvenpää", "Hyvinkää", "Nurmijärvi", "Mäntsälä", "Pornainen")
SOURCES = ("self", "child_welfare_supervisor", "family_counselling", "school", "court", "other")
OUTCOMES = ("agreement", "partial_agreement", "no_agreement", "not_suitable", "interrupted")
FIRST_YEAR = 2016
MEDIATORS = 400


async def generate(engine: AsyncEngine, cases: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    years = 10
    per_year = cases // years
    mediators = [
        {
            "id": i,
            "aad_object_id": f"{i:08x}-0000-4000-8000-000000000000",
            "name": f"Sovittelija {i}",
            "email": f"m{i}@example.org",
            "employer": f"Työnantaja {i % 40}",
            "languages": "fi",
            "role": "mediator",
            "experienced_mark": True,
            "active": True,
            "created_at": datetime(2015, 1, 1, tzinfo=UTC),
        }
        for i in range(1, MEDIATORS + 1)
    ]
    case_rows, seat_rows, meeting_rows, feedback_rows, link_rows, answer_rows = (
        [] for _ in "123456"
    )
    n = 0
    for y in range(FIRST_YEAR, FIRST_YEAR + years):
        for _ in range(per_year):
            n += 1
            created = datetime(y, 1, 1, tzinfo=UTC) + timedelta(minutes=rnd.randrange(525_000))
            done = created.year < FIRST_YEAR + years - 1 or rnd.random() < 0.6
            status = "closed" if done else rnd.choice(("open", "paired", "in_progress"))
            if rnd.random() < 0.03:
                status = "cancelled"
            case_rows.append(
                {
                    "id": n,
                    "code": f"{y}-{n:06d}",
                    "type_code": "mediation",
                    "status": status,
                    "outcome": rnd.choice(OUTCOMES) if status == "closed" else None,
                    "created_at": created,
                    "created_by": 1,
                    "closed_at": None,
                    "area": rnd.choice(AREAS),
                    "language": "fi",
                    "interpreter": False,
                    "child_birth_years": "2015",
                    "topics": "custody",
                    "preferred_times": "mon_morning",
                    "referral_source": rnd.choice(SOURCES),
                    "safety_concern": False,
                    "safety_concern_open": False,
                    "package_size": 5,
                    "version": 0,
                }
            )
            a, b = rnd.sample(range(1, MEDIATORS + 1), 2)
            full = status != "open"
            seat_rows.append(
                {
                    "case_id": n,
                    "n": 1,
                    "role": "mediator",
                    "holder_id": a,
                    "taken_at": created + timedelta(days=rnd.randrange(10)),
                }
            )
            seat_rows.append(
                {
                    "case_id": n,
                    "n": 2,
                    "role": "mediator",
                    "holder_id": b if full else None,
                    "taken_at": created + timedelta(days=rnd.randrange(5, 30)) if full else None,
                }
            )
            if not full:
                continue
            start = created + timedelta(days=rnd.randrange(10, 40))
            for k, kind in enumerate(
                ("individual", "individual", "joint", "joint", "follow_up")[: rnd.randrange(3, 6)]
            ):
                at = start + timedelta(days=14 * k)
                meeting_rows.append(
                    {
                        "case_id": n,
                        "kind": kind,
                        "parent_no": None,
                        "starts_at": at,
                        "ends_at": at + timedelta(minutes=90),
                        "status": "held",
                        "held_minutes": rnd.choice((None, 60, 75, 90)),
                    }
                )
            if status == "closed":
                feedback_rows.append(
                    {
                        "case_id": n,
                        "mediator_id": a,
                        "package_rating": rnd.randint(1, 5),
                        "pair_rating": rnd.randint(1, 5),
                        "helped": "",
                        "hard": "",
                        "note": "",
                        "updated_at": created + timedelta(days=100),
                    }
                )
                uses = rnd.choice((0, 1, 1, 2))
                term = POLICY.term_of(created).name
                link_rows.append(
                    {
                        "token": secrets.token_urlsafe(24),
                        "case_id": n,
                        "year": y,
                        "term": term,
                        "created_at": created,
                        "expires_at": created + timedelta(days=60),
                        "uses": uses,
                        "max_uses": 2,
                    }
                )
                for _ in range(uses):
                    answer_rows.append(
                        {
                            "id": secrets.token_hex(16),
                            "year": y,
                            "term": term,
                            "heard_from": "school",
                            "settled": rnd.choice(("fully", "partly", "not")),
                            "felt_heard": rnd.randint(1, 5),
                            "impartial": rnd.randint(1, 5),
                            "child_view": rnd.choice((None, 3, 4, 5)),
                            "recommend": "yes",
                            "good": "",
                            "missing": "",
                        }
                    )
    async with engine.begin() as conn:
        for model, rows in (
            (MediatorRow, mediators),
            (CaseRow, case_rows),
            (SeatRow, seat_rows),
            (MeetingRow, meeting_rows),
            (CaseFeedbackRow, feedback_rows),
            (ClientLinkRow, link_rows),
            (ClientAnswerRow, answer_rows),
        ):
            for i in range(0, len(rows), 5000):
                await conn.execute(insert(model), rows[i : i + 5000])
        await conn.exec_driver_sql("ANALYZE")


async def baseline(engine: AsyncEngine, year: int) -> int:
    """Load the year's cases as objects and count in Python: what SQL aggregation replaces."""
    lo, hi = POLICY.bounds_utc(*POLICY.year_bounds(year))
    sessions = session_factory(engine)
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(CaseRow)
                .where(CaseRow.created_at >= lo, CaseRow.created_at < hi)
                .options(selectinload(CaseRow.seats), selectinload(CaseRow.meetings))
            )
        ).all()
    counts: dict[tuple[str, str, str], int] = {}
    minutes = 0
    for case in rows:
        key = (POLICY.term_of(case.created_at).name, case.status, case.outcome or "")
        counts[key] = counts.get(key, 0) + 1
        minutes += sum(m.held_minutes or 90 for m in case.meetings if m.status == "held")
    return len(rows)


async def timed(fn: Callable[[], Awaitable[object]], runs: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


async def bench(label: str, url: str, cases: int) -> None:
    engine = create_engine(url)
    # Sopu reads the statistics through this engine: on SQLite one of their own (storage/db.py).
    reports = reports_engine(engine)
    try:
        await upgrade(engine)
        t0 = time.perf_counter()
        await generate(engine, cases)
        made = time.perf_counter() - t0
        year = FIRST_YEAR + 9
        queries = SqlStatsQueries(session_factory(reports))
        now = datetime(year, 11, 1, tzinfo=UTC)
        figures = await queries.year(year, POLICY, now)
        sql_best, sql_median = await timed(lambda: queries.year(year, POLICY, now))
        base_best, base_median = await timed(lambda: baseline(engine, year), runs=3)
        print(
            f"{label:<11} {cases:>7} cases (generated in {made:5.1f} s), year {year}: "
            f"{figures.total_families} families, {len(figures.mediators)} mediators\n"
            f"{'':<11} SQL aggregation  best {sql_best * 1000:7.1f} ms  median "
            f"{sql_median * 1000:7.1f} ms  {'OK' if sql_median < 1 else 'SLOW'} (aim < 1 s)\n"
            f"{'':<11} objects baseline best {base_best * 1000:7.1f} ms  median "
            f"{base_median * 1000:7.1f} ms  ({base_median / sql_median:4.1f}x the SQL time, "
            "for fewer figures)"
        )
    finally:
        if reports is not engine:
            await reports.dispose()
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.cases)
    if args.no_postgres:
        return
    admin = os.environ.get("SOPU_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres")
    name = f"sopu_bench_{secrets.token_hex(4)}"
    try:
        conn = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL      skipped: {exc}")
        return
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        await bench("PostgreSQL", url, args.cases)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
