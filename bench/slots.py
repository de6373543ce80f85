"""Proposing meeting times for a pair over eight weeks of dense calendars.

    .venv/bin/python -m bench.slots            # a few seconds
    .venv/bin/python -m bench.slots --quick    # about two seconds

Two mediators, each with a full working life in Outlook: 4-7 entries a working day at
30-minute granularity (some a quarter off the grid), tentative ones, a week of holiday as an
all-day out-of-office entry, and different working hours. Sopu's ``find_slots`` (merged busy
intervals, a bisect per candidate on the 30-minute grid) is timed against a naive scan in
the same run: every minute of the window checked against every entry, then every 30-minute
start checked minute by minute. Both must find the same candidate times; the figures are
per proposal (one pair, one meeting length, the whole eight weeks).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from graph.holidays import finnish_closed_days
from mediation.slots import (
    BLOCKING,
    BusyBlock,
    Schedule,
    ShowAs,
    Slot,
    SlotRequest,
    WorkingHours,
    candidate_slots,
    find_slots,
)

ZONE = ZoneInfo("Europe/Helsinki")
WEEKS = 8
TARGET_MS = 5.0


@dataclass(frozen=True)
class Options:
    proposals: int = 300
    naive_runs: int = 3
    seed: int = 2026

    @classmethod
    def quick(cls) -> Options:
        return cls(proposals=50, naive_runs=1)

    @classmethod
    def tiny(cls) -> Options:
        return cls(proposals=3, naive_runs=1)


def dense_schedule(mailbox: str, first: date, rng: random.Random, hours: WorkingHours) -> Schedule:
    """Eight weeks of a busy mediator's calendar."""
    blocks: list[BusyBlock] = []
    holiday_week = rng.randrange(1, WEEKS - 1)
    for n in range(WEEKS * 7):
        day = first + timedelta(days=n)
        if day.weekday() >= 5:
            continue
        if n // 7 == holiday_week:
            if day.weekday() == 0:
                start = datetime.combine(day, time(0), tzinfo=ZONE)
                blocks.append(BusyBlock(start, start + timedelta(days=5), ShowAs.OOF))
            continue
        for _ in range(rng.randint(4, 7)):
            offset = rng.choice((0, 0, 0, 15))  # mostly on the grid, some a quarter off
            start = datetime.combine(day, time(8), tzinfo=ZONE) + timedelta(
                minutes=30 * rng.randrange(0, 18) + offset
            )
            length = timedelta(minutes=30 * rng.randint(1, 4))
            show = rng.choices(
                (ShowAs.BUSY, ShowAs.TENTATIVE, ShowAs.FREE, ShowAs.ELSEWHERE), (70, 15, 10, 5)
            )[0]
            blocks.append(BusyBlock(start, start + length, show))
    # Both adapters hand over moments in UTC (Graph is asked for UTC; the database keeps UTC).
    utc = tuple(
        BusyBlock(b.start.astimezone(UTC), b.end.astimezone(UTC), b.show_as) for b in blocks
    )
    return Schedule(mailbox, utc, hours)


def naive_candidates(schedules: Sequence[Schedule], request: SlotRequest) -> list[Slot]:
    """Minute by minute: the obvious way, for comparison (and as a check of the fast one)."""
    # Moments in UTC like the blocks, so each comparison takes datetime's fast path.
    first = request.start.astimezone(UTC).replace(second=0, microsecond=0)
    minutes = int((request.end - first).total_seconds() // 60)
    blocks = [b for s in schedules for b in s.blocks]
    free = []
    tentative = []
    for i in range(minutes):
        moment = first + timedelta(minutes=i)
        local = moment.astimezone(ZONE)
        ok = local.date() not in request.closed_days and moment >= request.start
        for s in schedules:
            wh = s.working_hours or request.default_hours
            wz = local.astimezone(ZoneInfo(wh.zone))
            if wz.weekday() not in wh.days or not (wh.start <= wz.time() < wh.end):
                ok = False
        busy = soft = False
        for b in blocks:
            if b.start <= moment < b.end:
                if b.show_as in BLOCKING:
                    busy = True
                elif b.show_as is ShowAs.TENTATIVE:
                    soft = True
        free.append(ok and not busy)
        tentative.append(soft)
    found = []
    for i in range(minutes - request.minutes + 1):
        moment = first + timedelta(minutes=i)
        local = moment.astimezone(ZONE)
        if local.minute % request.step_minutes or moment < request.start:
            continue
        if all(free[i : i + request.minutes]):
            found.append(
                Slot(
                    moment,
                    moment + timedelta(minutes=request.minutes),
                    tentative=any(tentative[i : i + request.minutes]),
                )
            )
    return found


@dataclass
class Report:
    fast_ms: list[float]
    naive_ms: list[float]
    candidates: int
    shown: int
    entries: int
    same: bool

    @property
    def fast_mean(self) -> float:
        return statistics.fmean(self.fast_ms)

    @property
    def naive_mean(self) -> float:
        return statistics.fmean(self.naive_ms)


def run(options: Options) -> Report:
    rng = random.Random(options.seed)
    first = date(2026, 3, 2)  # eight weeks over Easter and the change to summer time
    a = dense_schedule("a@example.org", first, rng, WorkingHours(start=time(8), end=time(16)))
    b = dense_schedule(
        "b@example.org",
        first,
        rng,
        WorkingHours(start=time(9), end=time(17), zone="Europe/Helsinki"),
    )
    start = datetime.combine(first, time(0), tzinfo=ZONE)
    end = start + timedelta(weeks=WEEKS)
    request = SlotRequest(
        start=start,
        end=end,
        minutes=60,
        preferred=("tue_afternoon", "thu_morning"),
        closed_days=finnish_closed_days(first, end.date()),
    )
    schedules = [a, b]
    fast = []
    shown = 0
    for _ in range(options.proposals):
        t0 = clock.perf_counter()
        best = find_slots(schedules, request)
        fast.append((clock.perf_counter() - t0) * 1000)
        shown = len(best)
    naive = []
    naive_found: list[Slot] = []
    for _ in range(options.naive_runs):
        t0 = clock.perf_counter()
        naive_found = naive_candidates(schedules, request)
        naive.append((clock.perf_counter() - t0) * 1000)
    quick = candidate_slots(schedules, request)
    same = [(s.start, s.tentative) for s in quick] == [(s.start, s.tentative) for s in naive_found]
    return Report(fast, naive, len(quick), shown, len(a.blocks) + len(b.blocks), same)


def render(report: Report) -> str:
    p95 = sorted(report.fast_ms)[int(0.95 * (len(report.fast_ms) - 1))]
    ratio = report.naive_mean / report.fast_mean if report.fast_mean else float("inf")
    verdict = "meets" if report.fast_mean < TARGET_MS else "MISSES"
    return "\n".join(
        [
            f"Proposing times for a pair over {WEEKS} weeks of dense calendars "
            f"({report.entries} entries, 30-minute grid, 60-minute meeting)",
            f"  candidate times found: {report.candidates}; proposed: {report.shown}; "
            f"naive scan finds the same: {'yes' if report.same else 'NO'}",
            f"  find_slots:          {report.fast_mean:8.2f} ms per proposal "
            f"(p95 {p95:.2f} ms, {len(report.fast_ms)} runs)",
            f"  minute-by-minute:    {report.naive_mean:8.2f} ms per proposal "
            f"({len(report.naive_ms)} runs)",
            f"  ratio:               {ratio:8.1f} x faster",
            f"  target < {TARGET_MS:.0f} ms per proposal: {verdict}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer runs, a few seconds")
    args = parser.parse_args(argv)
    report = run(Options.quick() if args.quick else Options())
    print(render(report))  # a benchmark prints its figures


if __name__ == "__main__":
    main()
