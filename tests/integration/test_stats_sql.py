"""The year's statistics by SQL on SQLite and PostgreSQL, against figures worked out by hand.

The history below is small enough to count on paper; the comments give each figure's sum.
It includes the awkward bits: a case created late on 30 June UTC that is already 1 July in
Helsinki (autumn), one created on New Year's Eve UTC that is 2026 locally, a cancelled case
whose seat must not count towards a quota, a case from another year, and a meeting whose
length was not recorded (its booked length counts).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.stats_download import csv_bytes
from cards.i18n import t
from mediation.policy import BankPolicy
from mediation.stats import YearStats
from storage.models import CaseRow, MediatorRow, MeetingRow, SeatRow
from storage.models_feedback import (
    CaseFeedbackRow,
    ClientAnswerRow,
    ClientLinkRow,
    MeetingFeedbackRow,
)
from storage.stats import SqlStatsQueries

POLICY = BankPolicy()
NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def _case(n: int, created: datetime, status: str, outcome: str | None, area: str, src: str):
    return CaseRow(
        id=n,
        code=f"S-{n}",
        type_code="mediation",
        status=status,
        outcome=outcome,
        created_at=created,
        created_by=1,
        closed_at=None,
        area=area,
        language="fi",
        interpreter=False,
        child_birth_years="2018",
        topics="custody",
        preferred_times="mon_morning",
        referral_source=src,
        safety_concern=False,
        safety_concern_open=False,
        package_size=5,
        version=0,
    )


def _seat(case: int, n: int, holder: int | None, taken: datetime | None) -> SeatRow:
    return SeatRow(case_id=case, n=n, role="mediator", holder_id=holder, taken_at=taken)


def _meeting(
    case: int, kind: str, start: datetime, minutes: int, status: str, held: int | None
) -> MeetingRow:
    from datetime import timedelta

    return MeetingRow(
        case_id=case,
        kind=kind,
        parent_no=None,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        status=status,
        held_minutes=held,
    )


async def seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        for mid, name, employer in (
            (1, "Aino A", "Kunta X"),
            (2, "Bertil B", "Seurakunta"),
            (3, "Cecilia C", "Kunta X"),
        ):
            s.add(
                MediatorRow(
                    id=mid,
                    aad_object_id=f"{mid:08d}-0000-4000-8000-000000000000",
                    name=name,
                    email=f"{mid}@example.org",
                    employer=employer,
                    languages="fi",
                    role="mediator",
                    experienced_mark=True,
                    active=True,
                    created_at=at(2025, 1, 1),
                )
            )
        await s.flush()
        s.add_all(
            [
                _case(1, at(2026, 2, 1), "closed", "agreement", "Tuusula", "self"),
                _case(2, at(2026, 3, 10, 12), "closed", "not_suitable", "Kerava", "school"),
                _case(3, at(2026, 5, 1, 9), "in_progress", None, "Tuusula", "self"),
                # 30 June 22:30 UTC is 1 July 01:30 in Helsinki: autumn.
                _case(4, at(2026, 6, 30, 22, 30), "open", None, "Tuusula", "court"),
                _case(5, at(2026, 9, 1), "closed", "interrupted", "Kerava", "self"),
                # New Year's Eve 22:30 UTC is already 2026 in Helsinki: spring 2026.
                _case(6, at(2025, 12, 31, 22, 30), "open", None, "Hyvinkää", "self"),
                _case(7, at(2025, 6, 1), "closed", "agreement", "Tuusula", "self"),
                _case(8, at(2026, 4, 1), "cancelled", None, "Kerava", "self"),
            ]
        )
        await s.flush()
        s.add_all(
            [
                _seat(1, 1, 1, at(2026, 2, 3)),
                _seat(1, 2, 2, at(2026, 2, 5)),  # full 4 days after intake
                _seat(2, 1, 1, at(2026, 3, 10, 13)),
                _seat(2, 2, 3, at(2026, 3, 12, 12)),  # 2 days
                _seat(3, 1, 2, at(2026, 5, 2, 9)),
                _seat(3, 2, 3, at(2026, 5, 8, 9)),  # 7 days
                _seat(4, 1, None, None),
                _seat(4, 2, None, None),
                _seat(5, 1, 1, at(2026, 9, 1, 11)),
                _seat(5, 2, 2, at(2026, 9, 1, 10, 30)),  # 0 days
                _seat(6, 1, 3, at(2026, 1, 2)),
                _seat(6, 2, None, None),  # not full: no median value
                _seat(7, 1, 1, at(2025, 6, 2)),
                _seat(7, 2, 2, at(2025, 6, 2)),
                _seat(8, 1, 1, at(2026, 4, 1, 12)),  # a cancelled case: no package
                _seat(8, 2, None, None),
            ]
        )
        meetings = [
            _meeting(1, "individual", at(2026, 2, 10), 60, "held", 60),  # first: 9 days
            _meeting(1, "individual", at(2026, 2, 11), 60, "held", 60),
            _meeting(1, "joint", at(2026, 3, 1), 90, "held", None),  # booked length: 90
            _meeting(2, "individual", at(2026, 3, 20, 12), 60, "held", 45),  # 10 days
            _meeting(3, "individual", at(2026, 5, 10, 9), 60, "not_held", None),
            _meeting(3, "child", at(2026, 6, 1, 9), 60, "held", 60),  # 31 days
            _meeting(5, "follow_up", at(2026, 12, 1), 60, "held", 60),  # 91 days
            _meeting(5, "joint", at(2026, 12, 20), 90, "booked", None),  # not yet: nothing
            _meeting(7, "joint", at(2025, 7, 1), 90, "held", 90),  # another year
        ]
        s.add_all(meetings)
        await s.flush()
        s.add_all(
            [
                MeetingFeedbackRow(
                    meeting_id=meetings[0].id,
                    mediator_id=1,
                    rating=5,
                    cooperation="yes",
                    note="",
                    updated_at=at(2026, 2, 10, 12),
                ),
                MeetingFeedbackRow(
                    meeting_id=meetings[0].id,
                    mediator_id=2,
                    rating=2,
                    cooperation="partly",
                    note="",
                    updated_at=at(2026, 2, 10, 12),
                ),
                MeetingFeedbackRow(
                    meeting_id=meetings[8].id,
                    mediator_id=1,
                    rating=1,
                    cooperation="no",
                    note="",
                    updated_at=at(2025, 7, 1, 12),
                ),
                CaseFeedbackRow(
                    case_id=1,
                    mediator_id=1,
                    package_rating=4,
                    pair_rating=5,
                    helped="",
                    hard="",
                    note="",
                    updated_at=at(2026, 4, 1),
                ),
                CaseFeedbackRow(
                    case_id=1,
                    mediator_id=2,
                    package_rating=2,
                    pair_rating=4,
                    helped="",
                    hard="",
                    note="",
                    updated_at=at(2026, 4, 1),
                ),
                ClientLinkRow(
                    token="t" * 32,
                    case_id=1,
                    year=2026,
                    term="spring",
                    uses=2,
                    max_uses=2,
                    created_at=at(2026, 4, 1),
                    expires_at=at(2026, 6, 1),
                ),
                ClientLinkRow(
                    token="u" * 32,
                    case_id=2,
                    year=2026,
                    term="spring",
                    uses=1,
                    max_uses=2,
                    created_at=at(2026, 4, 1),
                    expires_at=at(2026, 6, 1),
                ),
                ClientLinkRow(
                    token="v" * 32,
                    case_id=7,
                    year=2025,
                    term="spring",
                    uses=2,
                    max_uses=2,
                    created_at=at(2025, 8, 1),
                    expires_at=at(2025, 9, 1),
                ),
            ]
        )
        for n, (felt, settled, recommend, year) in enumerate(
            [
                (5, "fully", "yes", 2026),
                (4, "partly", "yes", 2026),
                (None, "not", "no", 2026),
                (1, "not", "no", 2025),
            ]
        ):
            s.add(
                ClientAnswerRow(
                    id=f"{n:032d}",
                    year=year,
                    term="spring",
                    heard_from="school",
                    settled=settled,
                    felt_heard=felt,
                    impartial=5,
                    child_view=None,
                    recommend=recommend,
                    good="",
                    missing="",
                )
            )


@pytest.fixture
async def figures(sessions: async_sessionmaker[AsyncSession]) -> YearStats:
    await seed(sessions)
    return await SqlStatsQueries(sessions).year(2026, POLICY, NOW)


async def test_families_by_term_status_and_outcome(figures: YearStats) -> None:
    assert figures.terms == ("spring", "autumn")
    assert figures.families == {"spring": 5, "autumn": 2}  # cases 1 2 3 6 8 | 4 5
    assert figures.status_count("closed", "spring") == 2
    assert figures.status_count("open") == 2 and figures.status_count("cancelled") == 1
    assert figures.outcome_count("agreement") == 1  # case 7 is 2025
    assert figures.outcome_count("not_suitable") == 1
    assert figures.outcome_count("interrupted", "autumn") == 1
    assert figures.by_area == {"Tuusula": 3, "Kerava": 3, "Hyvinkää": 1}
    assert figures.by_referral == {"self": 5, "court": 1, "school": 1}


async def test_medians_of_waiting_times(figures: YearStats) -> None:
    # To a full pair: 0, 2, 4, 7 days -> 3.0; case 6 is not full, case 7 is 2025.
    assert (figures.to_pair.days, figures.to_pair.count) == (3.0, 4)
    # To the first meeting held: 9, 10, 31, 91 days -> (10 + 31) / 2.
    assert (figures.to_first_meeting.days, figures.to_first_meeting.count) == (20.5, 4)


async def test_meetings_hours_and_quota_use(figures: YearStats) -> None:
    assert figures.held("individual", "spring") == 3
    assert figures.held("joint") == 1 and figures.held("child") == 1
    assert figures.held("follow_up", "autumn") == 1
    assert figures.meetings_not_held == 1
    people = {p.name: p for p in figures.mediators}
    # Aino: case 1 (60+60+90) + case 2 (45) + case 5 (60) = 315 minutes.
    assert {n: p.minutes for n, p in people.items()} == {
        "Aino A": 315,
        "Bertil B": 330,  # 210 + child 60 + follow-up 60
        "Cecilia C": 105,  # 45 + 60
    }
    assert people["Aino A"].packages == {"spring": 2, "autumn": 1}  # case 8 was cancelled
    assert people["Cecilia C"].packages == {"spring": 3, "autumn": 0}  # cases 2, 3, 6
    assert people["Cecilia C"].year_packages == 3 and people["Cecilia C"].year_quota == 4
    assert figures.minutes_by_employer == {"Kunta X": 420, "Seurakunta": 330}


async def test_feedback_rates_and_averages(figures: YearStats) -> None:
    c = figures.client
    assert (c.links, c.answers) == (2, 3)
    assert c.response_rate == 75.0  # 3 of 2 x 2
    assert (c.felt_heard.value, c.felt_heard.count) == (4.5, 2)
    assert c.child_view.value is None and c.child_view.count == 0
    assert c.settled == {"fully": 1, "partly": 1, "not": 1}
    assert c.recommend == {"yes": 2, "no": 1}
    m = figures.mediator_feedback
    assert (m.case_answers, m.case_possible) == (2, 6)  # closed in 2026: cases 1, 2, 5
    assert (m.package.value, m.pair.value) == (3.0, 4.5)
    assert (m.meeting.value, m.meeting.count) == (3.5, 2)  # the 2025 rating is left out
    assert m.cooperation == {"yes": 1, "partly": 1}


async def test_the_csv_hides_small_counts_and_opens_in_finnish_excel(figures: YearStats) -> None:
    data = csv_bytes("fi", figures)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Osio;Kohta;Jakso;Arvo"
    assert "Perheet;Perheitä yhteensä;kevät 2026;5" in lines
    assert "Perheet;Perheitä yhteensä;syksy 2026;< 5" in lines
    assert "Perheet;Perheitä yhteensä;2026;7" in lines
    assert "Perheet;Sopimus;2026;< 5" in lines
    assert "Perheet;Peruttu;kevät 2026;< 5" in lines
    assert "Perheet;Avoin;kevät 2026;< 5" in lines
    # An average of two answers is withheld, and says so in words rather than as "< 5".
    withheld = t("fi", "stats.withheld_csv")
    assert any(line.endswith(f";{withheld}") and "kuulluksi" in line for line in lines)
    assert not any(line.endswith(";< 5") and "(1–5)" in line for line in lines)
    assert not any(
        ";1;" in line or line.endswith((";1", ";2", ";3", ";4"))
        for line in lines
        if line.startswith("Perheet")
    )


def test_the_year_bounds_are_local_midnight() -> None:
    lo, hi = POLICY.bounds_utc(*POLICY.year_bounds(2026))
    assert lo == datetime(2025, 12, 31, 22, tzinfo=UTC)
    assert hi == datetime(2026, 12, 31, 22, tzinfo=UTC)
