"""What the bank's scheduled jobs must send, to whom, under which outbox key.

Pure functions over plain data and the date: a job loads mediators and cases, asks these
functions what is due *today*, and adds the answer to the outbox. Being due is a state,
not an instant ("the term started less than two weeks ago and you have not had this
term's reminder"), so a run missed while the service was down is caught up by the next
run, and the outbox key makes a second run add nothing.

Quiet days: with ``skip_holidays`` on, nothing is sent on weekends and public holidays
(the holiday calendar is given in, the domain knows no country). A message falling on a
quiet day moves to the next working day; a reminder *ahead of* something (a meeting
tomorrow, a joint meeting next week) moves to the working day before instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mediation.calendar import UnrecordedMeeting
from mediation.model import (
    PAIR_FOLLOW_UP,
    Case,
    CaseStatus,
    Mediator,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from mediation.outbox import MessageKind, NewMessage, OutboxKey
from mediation.policy import BankPolicy, Term
from mediation.rules import QuotaUsage

IsHoliday = Callable[[date], bool]


@dataclass(frozen=True)
class ReminderPolicy:
    """The jobs' settings; the defaults suit the Keski-Uusimaa bank."""

    escalate_after_days: int = 7  # an open case goes to the coordinators at N and 2N days
    catch_up_days: int = 14  # how late a missed term-start or mid-term message is still sent
    mid_term_day: int | None = None  # days after the term starts; None: the middle of the term
    meeting_lead_days: int = 1  # meeting reminders this many days before
    record_prompt_after: timedelta = timedelta(minutes=15)
    record_prompt_days: int = 14  # no prompt for meetings that ended longer ago
    # The follow-up meeting is due this long after the agreement (the pair's declaration).
    follow_up_after_days: int = PAIR_FOLLOW_UP.after_days
    follow_up_lead_days: int = PAIR_FOLLOW_UP.lead_days
    feedback_days: int = 30  # feedback requests for cases closed this recently
    joint_meetings: tuple[tuple[int, int], ...] = ((2, 10), (5, 19), (11, 17))  # (month, day)
    joint_lead_days: int = 7
    retention_days: int = 730
    skip_holidays: bool = False

    def __post_init__(self) -> None:
        if self.escalate_after_days < 1 or self.meeting_lead_days < 1:
            raise ValueError("escalation and meeting lead days must be at least 1")
        for month, day in self.joint_meetings:
            date(2024, month, day)  # raises on an impossible date (2024 has 29 Feb)


class WorkingDays:
    """Which days messages may go out on."""

    def __init__(self, skip_holidays: bool, is_holiday: IsHoliday | None = None) -> None:
        self.skip = skip_holidays
        self.is_holiday = is_holiday or (lambda day: False)

    def quiet(self, day: date) -> bool:
        return self.skip and (day.weekday() >= 5 or self.is_holiday(day))

    def on_or_after(self, day: date) -> date:
        while self.quiet(day):
            day += timedelta(days=1)
        return day

    def on_or_before(self, day: date) -> date:
        while self.quiet(day):
            day -= timedelta(days=1)
        return day

    def first_weekday(self, day: date) -> date:
        """The first Monday-to-Friday on or after ``day`` that is not quiet."""
        while day.weekday() >= 5 or self.quiet(day):
            day += timedelta(days=1)
        return day


def reachable(person: Mediator, today: date) -> bool:
    """Inactive and away people get no reminders, and a booker none of the mediators'."""
    return (
        person.active
        and not person.is_booker
        and person.away_on(today) is None
        and bool(person.aad_object_id)
    )


def _msg(
    kind: MessageKind, person: Mediator, subject: str, period: str, **payload: object
) -> NewMessage:
    return NewMessage(OutboxKey(kind, person.aad_object_id.lower(), subject, period), payload)


# -- term start and mid-term ---------------------------------------------------------------


def term_start_day(term: Term, days: WorkingDays) -> date:
    return days.first_weekday(term.start)


def mid_term_day(term: Term, policy: ReminderPolicy, days: WorkingDays) -> date:
    offset = policy.mid_term_day
    if offset is None:
        offset = (term.end - term.start).days // 2
    return days.first_weekday(
        min(term.start + timedelta(days=offset), term.end - timedelta(days=1))
    )


def _in_window(today: date, first: date, policy: ReminderPolicy, days: WorkingDays) -> bool:
    return first <= today < first + timedelta(days=policy.catch_up_days) and not days.quiet(today)


def _quota_payload(usage: QuotaUsage, waiting: int) -> dict[str, object]:
    return {
        "term": usage.term.name,
        "year": usage.term.year,
        "term_left": usage.term_left,
        "year_left": usage.year_left,
        "waiting": waiting,
    }


def term_start_messages(
    today: date,
    bank: BankPolicy,
    policy: ReminderPolicy,
    days: WorkingDays,
    mediators: Iterable[Mediator],
    usage: Callable[[Mediator], QuotaUsage],
    waiting: int,
) -> list[NewMessage]:
    """Each reachable mediator's quota for the new term, with how many families wait."""
    term = bank.term_of(today)
    if not _in_window(today, term_start_day(term, days), policy, days):
        return []
    period = f"{term.year}-{term.name}"
    return [
        _msg(
            MessageKind.TERM_START,
            m,
            f"term:{term.name}",
            period,
            **_quota_payload(usage(m), waiting),
        )
        for m in mediators
        if reachable(m, today)
    ]


def mid_term_messages(
    today: date,
    bank: BankPolicy,
    policy: ReminderPolicy,
    days: WorkingDays,
    mediators: Iterable[Mediator],
    usage: Callable[[Mediator], QuotaUsage],
    waiting: int,
) -> list[NewMessage]:
    """A nudge to mediators with unused quota, only while families wait."""
    term = bank.term_of(today)
    if waiting == 0 or not _in_window(today, mid_term_day(term, policy, days), policy, days):
        return []
    period = f"{term.year}-{term.name}"
    found = []
    for m in mediators:
        if not reachable(m, today):
            continue
        use = usage(m)
        if use.term_left > 0 and use.year_left > 0:
            found.append(
                _msg(
                    MessageKind.MID_TERM,
                    m,
                    f"term:{term.name}",
                    period,
                    **_quota_payload(use, waiting),
                )
            )
    return found


# -- unclaimed cases ----------------------------------------------------------------------------


def escalation_messages(
    today: date,
    bank: BankPolicy,
    policy: ReminderPolicy,
    days: WorkingDays,
    open_cases: Iterable[Case],
    coordinators: Iterable[Mediator],
) -> list[NewMessage]:
    """A case still open N days after intake goes to the coordinators; again at 2N."""
    if days.quiet(today):
        return []
    people = [c for c in coordinators if c.is_coordinator and reachable(c, today)]
    found = []
    n = policy.escalate_after_days
    for case in open_cases:
        if case.status is not CaseStatus.OPEN or case.id is None:
            continue
        age = (today - bank.local_date(case.created_at)).days
        step = 2 if age >= 2 * n else 1 if age >= n else 0
        if step == 0:
            continue
        for person in people:
            found.append(
                _msg(
                    MessageKind.ESCALATION,
                    person,
                    f"case:{case.id}",
                    f"day{step * n}",
                    case_id=case.id,
                    code=case.code,
                    days=step * n,
                )
            )
    return found


# -- meetings -----------------------------------------------------------------------------------


def meeting_reminder_day(
    meeting: Meeting, bank: BankPolicy, policy: ReminderPolicy, days: WorkingDays
) -> date:
    return days.on_or_before(
        bank.local_date(meeting.starts_at) - timedelta(days=policy.meeting_lead_days)
    )


def _holders(case: Case, people: Mapping[int, Mediator]) -> list[Mediator]:
    return [people[h] for h in case.holder_ids() if h in people]


def _meeting_payload(case: Case, meeting: Meeting) -> dict[str, object]:
    return {
        "case_id": case.id,
        "code": case.code,
        "meeting_id": meeting.id,
        "meeting_kind": meeting.kind.value,
        "starts_at": meeting.starts_at.isoformat(),
        "ends_at": meeting.ends_at.isoformat(),
    }


def meeting_reminder_messages(
    now: datetime,
    bank: BankPolicy,
    policy: ReminderPolicy,
    days: WorkingDays,
    cases: Iterable[Case],
    people: Mapping[int, Mediator],
) -> list[NewMessage]:
    """Both mediators hear of each booked meeting the day before it (a moved one anew)."""
    today = bank.local_date(now)
    found = []
    for case in cases:
        if not case.status.active or case.id is None:
            continue
        for meeting in case.meetings:
            if meeting.status is not MeetingStatus.BOOKED or meeting.id is None:
                continue
            if meeting.starts_at <= now or today < meeting_reminder_day(
                meeting, bank, policy, days
            ):
                continue
            if days.quiet(today):
                continue
            for person in _holders(case, people):
                if reachable(person, today):
                    found.append(
                        _msg(
                            MessageKind.MEETING_REMINDER,
                            person,
                            f"meeting:{meeting.id}",
                            meeting.starts_at.isoformat(),
                            **_meeting_payload(case, meeting),
                        )
                    )
    return found


def record_prompt_messages(
    now: datetime,
    bank: BankPolicy,
    policy: ReminderPolicy,
    days: WorkingDays,
    meetings: Iterable[UnrecordedMeeting],
    people: Mapping[int, Mediator],
) -> list[NewMessage]:
    """After a meeting's end, the pair is asked to record it, until someone has.

    ``meetings`` are the calendar's booked meetings that ended unrecorded
    (``mediation.calendar.meetings_to_record``), each with its pair.
    """
    today = bank.local_date(now)
    if days.quiet(today):
        return []
    found = []
    oldest = now - timedelta(days=policy.record_prompt_days)
    for meeting in meetings:
        if not oldest <= meeting.ends_at <= now - policy.record_prompt_after:
            continue
        payload = {
            "case_id": meeting.case_id,
            "code": meeting.code,
            "meeting_id": meeting.meeting_id,
            "meeting_kind": meeting.kind.value,
            "starts_at": meeting.starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(),
        }
        for person in (people[m] for m in meeting.mediator_ids if m in people):
            if reachable(person, today):
                found.append(
                    _msg(
                        MessageKind.RECORD_PROMPT,
                        person,
                        f"meeting:{meeting.meeting_id}",
                        meeting.ends_at.isoformat(),
                        **payload,
                    )
                )
    return found


def follow_up_due(agreed_at: datetime, bank: BankPolicy, policy: ReminderPolicy) -> date:
    return bank.local_date(agreed_at) + timedelta(days=policy.follow_up_after_days)


def follow_up_messages(
    now: datetime,
    bank: BankPolicy,
    policy: ReminderPolicy,
    days: WorkingDays,
    cases: Iterable[tuple[Case, datetime]],
    people: Mapping[int, Mediator],
) -> list[NewMessage]:
    """Before the follow-up meeting is due, the pair is reminded if it is not booked.

    ``cases`` pairs each case in follow-up with the moment it moved there.
    """
    today = bank.local_date(now)
    if days.quiet(today):
        return []
    found = []
    for case, agreed_at in cases:
        if case.status is not CaseStatus.FOLLOW_UP or case.id is None:
            continue
        if any(
            m.kind is MeetingKind.FOLLOW_UP
            and m.status in (MeetingStatus.BOOKED, MeetingStatus.HELD)
            for m in case.meetings
        ):
            continue
        due = follow_up_due(agreed_at, bank, policy)
        if not due - timedelta(days=policy.follow_up_lead_days) <= today <= due:
            continue
        for person in _holders(case, people):
            if reachable(person, today):
                found.append(
                    _msg(
                        MessageKind.FOLLOW_UP,
                        person,
                        f"case:{case.id}",
                        due.isoformat(),
                        case_id=case.id,
                        code=case.code,
                        due=due.isoformat(),
                    )
                )
    return found


# -- closing ------------------------------------------------------------------------------------


def feedback_messages(
    now: datetime,
    policy: ReminderPolicy,
    closed: Iterable[Case],
    people: Mapping[int, Mediator],
) -> list[NewMessage]:
    """When a case closes, each mediator gets their own feedback card and the client link.

    Sent at once, quiet day or not: it answers the coordinator's closing the case.
    """
    found = []
    oldest = now - timedelta(days=policy.feedback_days)
    for case in closed:
        if case.status is not CaseStatus.CLOSED or case.id is None or case.closed_at is None:
            continue
        if case.closed_at < oldest:
            continue
        for person in _holders(case, people):
            if not person.active:
                continue
            payload = {
                "case_id": case.id,
                "code": case.code,
                "outcome": case.outcome.value if case.outcome else "",
            }
            for kind in (MessageKind.MEDIATOR_FEEDBACK, MessageKind.CLIENT_LINK):
                found.append(_msg(kind, person, f"case:{case.id}", "closed", **payload))
    return found


# -- the bank's joint meetings -----------------------------------------------------------------


def joint_meeting_days(year: int, policy: ReminderPolicy) -> list[date]:
    return [date(year, month, day) for month, day in policy.joint_meetings]


def joint_meeting_messages(
    today: date,
    policy: ReminderPolicy,
    days: WorkingDays,
    mediators: Iterable[Mediator],
    agendas: Mapping[date, str],
) -> list[NewMessage]:
    """A week before each of the year's joint meetings, every mediator gets a reminder."""
    if days.quiet(today):
        return []
    found = []
    people = [m for m in mediators if reachable(m, today)]
    for year in (today.year, today.year + 1):
        for day in joint_meeting_days(year, policy):
            send = days.on_or_before(day - timedelta(days=policy.joint_lead_days))
            if not send <= today < day:
                continue
            for person in people:
                found.append(
                    _msg(
                        MessageKind.JOINT_MEETING,
                        person,
                        f"joint:{day.isoformat()}",
                        str(day.year),
                        day=day.isoformat(),
                        agenda_url=agendas.get(day, ""),
                    )
                )
    return found


# -- retention ----------------------------------------------------------------------------------


def due_for_purge(now: datetime, policy: ReminderPolicy, ended: Sequence[Case]) -> list[Case]:
    """Closed or cancelled cases whose family data has been kept long enough."""
    cutoff = now - timedelta(days=policy.retention_days)
    return [
        c
        for c in ended
        if not c.status.active and c.closed_at is not None and c.closed_at <= cutoff
    ]
