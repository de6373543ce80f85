"""Finding times two mediators can both make: the edge cases of calendars and clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from graph.holidays import finnish_closed_days, midsummer_eve
from mediation.slots import (
    BusyBlock,
    Schedule,
    ShowAs,
    SlotRequest,
    WorkingHours,
    candidate_slots,
    find_slots,
    is_free,
    weekday_dates,
)

HKI = ZoneInfo("Europe/Helsinki")


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=HKI)


def request(start: datetime, days: int = 1, minutes: int = 60, **kw: object) -> SlotRequest:
    return SlotRequest(start=start, end=start + timedelta(days=days), minutes=minutes, **kw)  # type: ignore[arg-type]


def starts(slots: list) -> list[str]:  # type: ignore[type-arg]
    return [s.start.astimezone(HKI).strftime("%a %H:%M") for s in slots]


def test_free_day_gives_every_half_hour_within_working_hours() -> None:
    slots = candidate_slots([Schedule("a"), Schedule("b")], request(local(2026, 3, 3, 0)))
    assert starts(slots)[0] == "Tue 08:00" and starts(slots)[-1] == "Tue 16:00"
    assert len(slots) == 17  # 8:00 ... 16:00, each ending by 17:00


def test_busy_in_either_calendar_rules_a_time_out() -> None:
    a = Schedule("a", (BusyBlock(local(2026, 3, 3, 8), local(2026, 3, 3, 12)),))
    b = Schedule("b", (BusyBlock(local(2026, 3, 3, 13), local(2026, 3, 3, 14, 30)),))
    slots = candidate_slots([a, b], request(local(2026, 3, 3, 0)))
    assert starts(slots) == ["Tue 12:00", "Tue 14:30", "Tue 15:00", "Tue 15:30", "Tue 16:00"]


def test_tentative_is_allowed_but_comes_after_free_times() -> None:
    a = Schedule(
        "a",
        (
            BusyBlock(local(2026, 3, 3, 8), local(2026, 3, 3, 15), ShowAs.TENTATIVE),
            BusyBlock(local(2026, 3, 3, 15), local(2026, 3, 3, 17), ShowAs.BUSY),
        ),
    )
    all_slots = candidate_slots([a], request(local(2026, 3, 3, 0)))
    assert all(s.tentative for s in all_slots) and len(all_slots) == 13
    b = Schedule("b", (BusyBlock(local(2026, 3, 4, 8), local(2026, 3, 4, 9), ShowAs.TENTATIVE),))
    best = find_slots([a, b], request(local(2026, 3, 3, 0), days=2, limit=2, per_day=1))
    # The free Wednesday time is chosen first; the tentative Tuesday only fills the list.
    assert starts(best) == ["Tue 08:00", "Wed 09:00"]
    assert [s.tentative for s in best] == [True, False]


def test_free_and_out_of_office_entries() -> None:
    free = Schedule("a", (BusyBlock(local(2026, 3, 3, 8), local(2026, 3, 3, 17), ShowAs.FREE),))
    assert len(candidate_slots([free], request(local(2026, 3, 3, 0)))) == 17
    away = Schedule("a", (BusyBlock(local(2026, 3, 3, 8), local(2026, 3, 3, 17), ShowAs.OOF),))
    assert candidate_slots([away], request(local(2026, 3, 3, 0))) == []


def test_an_all_day_event_blocks_its_day_only() -> None:
    # Outlook reports an all-day event as local midnight to midnight.
    all_day = BusyBlock(local(2026, 3, 3, 0), local(2026, 3, 4, 0), ShowAs.BUSY)
    slots = candidate_slots([Schedule("a", (all_day,))], request(local(2026, 3, 3, 0), days=2))
    assert {s.start.astimezone(HKI).date() for s in slots} == {date(2026, 3, 4)}
    # An all-day entry shown as free (a birthday, a reminder) blocks nothing.
    marker = BusyBlock(local(2026, 3, 3, 0), local(2026, 3, 4, 0), ShowAs.FREE)
    assert len(candidate_slots([Schedule("a", (marker,))], request(local(2026, 3, 3, 0)))) == 17


def test_different_working_hours_intersect() -> None:
    early = WorkingHours(start=time(7), end=time(15))
    late = WorkingHours(start=time(10), end=time(18))
    slots = candidate_slots(
        [Schedule("a", working_hours=early), Schedule("b", working_hours=late)],
        request(local(2026, 3, 3, 0)),
    )
    assert starts(slots) == ["Tue 10:00", "Tue 10:30", "Tue 11:00", "Tue 11:30", "Tue 12:00",
                             "Tue 12:30", "Tue 13:00", "Tue 13:30", "Tue 14:00"]  # fmt: skip
    part_time = WorkingHours(days=frozenset({0, 2}))  # Mondays and Wednesdays
    week = candidate_slots(
        [Schedule("a"), Schedule("b", working_hours=part_time)], request(local(2026, 3, 2, 0), 7)
    )
    assert {s.start.astimezone(HKI).strftime("%a") for s in week} == {"Mon", "Wed"}


def test_working_hours_in_another_time_zone() -> None:
    stockholm = WorkingHours(start=time(8), end=time(16), zone="Europe/Stockholm")  # 9-17 here
    slots = candidate_slots(
        [Schedule("a"), Schedule("b", working_hours=stockholm)], request(local(2026, 3, 3, 0))
    )
    assert starts(slots)[0] == "Tue 09:00" and starts(slots)[-1] == "Tue 16:00"


@pytest.mark.parametrize(
    ("day", "offset"),
    [
        (date(2026, 3, 27), 2),  # Friday before the spring change: UTC+2
        (date(2026, 3, 30), 3),  # Monday after: UTC+3
        (date(2026, 10, 23), 3),  # Friday before the autumn change
        (date(2026, 10, 26), 2),  # Monday after
    ],
)
def test_working_hours_follow_daylight_saving(day: date, offset: int) -> None:
    start = datetime(day.year, day.month, day.day, tzinfo=HKI)
    slots = candidate_slots([Schedule("a")], request(start))
    first = slots[0].start
    assert first.astimezone(HKI).time() == time(8)
    assert first.astimezone(UTC).hour == 8 - offset


def test_a_window_across_the_change_keeps_local_times() -> None:
    # Friday 27 March to Monday 30 March 2026: the clocks go forward on Sunday.
    slots = candidate_slots([Schedule("a")], request(local(2026, 3, 27, 0), days=4))
    by_day: dict[date, list[str]] = {}
    for s in slots:
        by_day.setdefault(s.start.astimezone(HKI).date(), []).append(
            s.start.astimezone(HKI).strftime("%H:%M")
        )
    assert by_day[date(2026, 3, 27)] == by_day[date(2026, 3, 30)]
    assert by_day[date(2026, 3, 30)][0] == "08:00"
    # A busy block given in UTC lands on the right local hour after the change.
    busy = BusyBlock(datetime(2026, 3, 30, 5, tzinfo=UTC), datetime(2026, 3, 30, 7, tzinfo=UTC))
    after = candidate_slots([Schedule("a", (busy,))], request(local(2026, 3, 30, 0)))
    assert starts(after)[0] == "Mon 10:00"


def test_holidays_and_the_eves_are_closed() -> None:
    closed = finnish_closed_days(date(2026, 1, 1), date(2026, 12, 31))
    for day in (
        date(2026, 1, 6),  # Epiphany
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 14),  # Ascension Day
        date(2026, 6, 19),  # Midsummer Eve
        date(2026, 12, 6),  # Independence Day
        date(2026, 12, 24),  # Christmas Eve
    ):
        assert day in closed, day
    assert date(2026, 4, 7) not in closed
    assert midsummer_eve(2027) == date(2027, 6, 25)
    assert midsummer_eve(2028) == date(2028, 6, 23)
    easter = local(2026, 4, 2, 0)  # Thursday before Easter: only Thursday and Tuesday are open
    slots = candidate_slots(
        [Schedule("a")],
        request(
            easter, days=6, closed_days=finnish_closed_days(date(2026, 4, 1), date(2026, 4, 9))
        ),
    )
    assert {s.start.astimezone(HKI).date() for s in slots} == {date(2026, 4, 2), date(2026, 4, 7)}


def test_the_familys_excluded_weekdays_are_closed() -> None:
    fridays = weekday_dates(("fri",), date(2026, 3, 1), date(2026, 3, 31))
    assert fridays == {date(2026, 3, d) for d in (6, 13, 20, 27)}
    assert weekday_dates((), date(2026, 3, 1), date(2026, 3, 31)) == frozenset()
    # Proposed on a Thursday: without the exclusion Friday would come first; Monday does.
    req = request(local(2026, 3, 5, 18), days=5, limit=2, closed_days=fridays)
    assert starts(find_slots([Schedule("a"), Schedule("b")], req)) == ["Mon 08:00", "Mon 08:30"]
    mondays_too = fridays | weekday_dates(("mon",), date(2026, 3, 1), date(2026, 3, 31))
    req = request(local(2026, 3, 5, 18), days=5, limit=2, closed_days=mondays_too)
    assert starts(find_slots([Schedule("a")], req)) == ["Tue 08:00", "Tue 08:30"]


def test_preferred_times_come_first_and_days_are_spread() -> None:
    req = request(local(2026, 3, 2, 0), days=7, preferred=("thu_afternoon",), limit=4, per_day=2)
    best = find_slots([Schedule("a"), Schedule("b")], req)
    thursday = [s for s in best if s.start.astimezone(HKI).date() == date(2026, 3, 5)]
    assert len(thursday) == 2 and all(s.preferred for s in thursday)
    assert all(s.start.astimezone(HKI).hour >= 12 for s in thursday)
    assert best == sorted(best)  # shown in time order
    # The rest are the earliest times, at most two a day.
    assert {s.start.astimezone(HKI).date() for s in best} == {date(2026, 3, 2), date(2026, 3, 5)}


def test_a_long_meeting_needs_the_whole_gap() -> None:
    a = Schedule(
        "a",
        (
            BusyBlock(local(2026, 3, 3, 8), local(2026, 3, 3, 10)),
            BusyBlock(local(2026, 3, 3, 11), local(2026, 3, 3, 17)),
        ),
    )
    assert candidate_slots([a], request(local(2026, 3, 3, 0), minutes=90)) == []
    assert starts(candidate_slots([a], request(local(2026, 3, 3, 0), minutes=60))) == ["Tue 10:00"]
    assert is_free([a], local(2026, 3, 3, 10), local(2026, 3, 3, 11))
    assert not is_free([a], local(2026, 3, 3, 10), local(2026, 3, 3, 11, 30))


def test_no_slot_starts_before_the_request() -> None:
    slots = candidate_slots([Schedule("a")], request(local(2026, 3, 3, 13, 10)))
    assert starts(slots)[0] == "Tue 13:30"


def test_naive_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        SlotRequest(start=datetime(2026, 3, 3), end=datetime(2026, 3, 4), minutes=60)
    with pytest.raises(ValueError):
        BusyBlock(datetime(2026, 3, 3), datetime(2026, 3, 4))
