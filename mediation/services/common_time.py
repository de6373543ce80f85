"""The family centre's common time, as use cases: convening, the team's answers, the meeting
with its room, the joint plan and its follow-up (the rules are in mediation/common_time.py).

Each use case commits once. What it tells people is written to the outbox in the same
transaction; what it writes into calendars goes after the commit, and a meeting whose event
did not get there stays pending for ``push_calendar`` to carry over later.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ParamSpec, Protocol, TypeVar

from mediation import errors
from mediation.calendar.errors import CalendarRefused, CalendarUnavailable, SlotInvalid, SlotTaken
from mediation.calendar.policy import MeetingPolicy
from mediation.calendar.ports import Calendar, ClosedDays, EventDraft
from mediation.case_types import Step
from mediation.common_time import (
    COMMON_TIME_KIND,
    FOLLOW_UP_KIND,
    PUBLIC_SERVICES,
    CommonTime,
    CommonTimeFigures,
    Entry,
    EventState,
    JointPlan,
    Meeting,
    Status,
    TeamMember,
    common_free_time,
    common_time_figures,
    due_for_erasure,
)
from mediation.common_time_feedback import (
    CommonTimeFeedbackFigures,
    FamilyLink,
    check_may_give_feedback,
    common_time_feedback_figures,
    family_link_state,
    held_year,
    parse_family_answer,
    parse_team_feedback,
)
from mediation.common_time_views import (
    ActionLine,
    CommonTimeView,
    ExceptionLine,
    FamilyLinkLine,
    InvitationLine,
    MeetingLine,
    Part,
    Person,
    TeamFeedbackView,
    TimeOption,
)
from mediation.consent import Consent, ConsentException
from mediation.feedback import LinkState, looks_like_token, new_token
from mediation.model import Mediator
from mediation.outbox import MessageKind, NewMessage, OutboxKey
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.services.common import MAX_ATTEMPTS, actor, require_coordinator
from mediation.slots import SlotRequest, is_free, within_hours

ACTIVE = (Status.CONVENING, Status.BOOKED, Status.HELD, Status.FOLLOW_UP)
ROOM_MAX = 200
MUNICIPALITY_MAX = 100


P = ParamSpec("P")
R = TypeVar("R")


def _retried(change: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A change read and decided again when someone saved the same common time meanwhile
    (two invitees answering at once): the loser sees the rule that now applies to it."""

    @functools.wraps(change)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return await change(*args, **kwargs)
            except errors.ConcurrentChange:
                if attempt == MAX_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    return run


class CommonTimeWording(Protocol):
    """The texts of a common time's calendar events (the bot fills them in a language)."""

    def subject(self, code: str, kind: str) -> str: ...

    def body(self, code: str) -> str: ...

    def cancel_comment(self, code: str) -> str: ...


@dataclass(frozen=True)
class Room:
    """A room for a common time's meetings: what people read, and its calendar's address."""

    name: str
    mailbox: str

    @classmethod
    def of(cls, entry: str) -> Room:
        """A room mailbox (Graph) is both; a local room's name gets an address of its own,
        without spaces, as calendars keep attendees' addresses."""
        entry = " ".join(entry.split())
        if "@" in entry:
            return cls(entry.lower(), entry.lower())
        slug = "-".join(entry.casefold().split())
        return cls(entry, f"room.{slug}@rooms.local")


@dataclass(frozen=True)
class CommonTimeDeps:
    """What the common time's use cases need besides the unit of work."""

    clock: Clock
    policy: BankPolicy
    calendar: Calendar
    meetings: MeetingPolicy  # working hours, how far ahead to look, how many times to show
    wording: CommonTimeWording
    closed_days: ClosedDays
    rooms: tuple[Room, ...] = ()
    feedback_link_days: int = 60  # how long the family's feedback link takes answers


# -- reading --------------------------------------------------------------------------------


async def show(actor_aad: str, ct_id: int, uow: UnitOfWork, d: CommonTimeDeps) -> CommonTimeView:
    """The common time as the actor may see it (without the plan's text)."""
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        return await _view(uow, ct, me, d)


async def mine(actor_aad: str, uow: UnitOfWork, d: CommonTimeDeps) -> list[CommonTimeView]:
    """The common times the actor convenes, is invited to or follows up, newest first."""
    async with uow:
        me = await actor(uow, actor_aad)
        assert me.id is not None
        found = await uow.common_times.for_person(me.id)
        return [await _view(uow, ct, me, d, details=False) for ct in found]


async def read_plan(
    actor_aad: str, ct_id: int, uow: UnitOfWork, d: CommonTimeDeps
) -> CommonTimeView:
    """The plan for one of the family's agreed parties; each reading is journaled."""
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        ct.check_may_read_plan(me.id)
        await uow.common_times.write(ct.id, Entry("plan_read", me.id, d.clock.now()))
        view = await _view(uow, ct, me, d, with_plan=True)
        await uow.commit()
        return view


# -- convening ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Convene:
    actor: str
    municipality: str
    competences: frozenset[str]
    consent: frozenset[Step]  # the steps the family consented to
    justification: str = ""  # for convening without consent


@_retried
async def convene(cmd: Convene, uow: UnitOfWork, d: CommonTimeDeps) -> CommonTimeView:
    """A close worker opens a family's common time, with the family's consent recorded, or
    with a justification that waits for a coordinator's approval."""
    now = d.clock.now()
    if len(cmd.municipality) > MUNICIPALITY_MAX:
        raise errors.InvalidInput("municipality", "too long", max=MUNICIPALITY_MAX)
    async with uow:
        me = await actor(uow, cmd.actor)
        assert me.id is not None
        code = await uow.common_times.next_code(d.policy.local_date(now).year)
        convener = TeamMember(me.id, me.name, frozenset())
        ct = CommonTime.convene(code, convener, cmd.municipality, cmd.competences, now)
        if cmd.consent:
            ct.record_consent(Consent(cmd.consent, me.id, now))
        asked = Step.CONVENE not in cmd.consent
        if asked:
            if not cmd.justification.strip():
                raise errors.InvalidInput("justification", "required")
            ct.ask_exception(ConsentException(Step.CONVENE, cmd.justification, me.id, now))
        ct = await uow.common_times.add(ct)
        assert ct.id is not None
        await uow.common_times.write(
            ct.id, Entry("convened", me.id, now, {"consent": sorted(cmd.consent)})
        )
        if asked:
            coordinators = [c for c in await uow.mediators.coordinators() if c.active]
            await _tell(
                uow,
                ct,
                coordinators,
                "exception_asked",
                f"asked:{Step.CONVENE}",
                now,
                step=Step.CONVENE.value,
            )
        view = await _view(uow, ct, me, d)
        await uow.commit()
        return view


@_retried
async def record_consent(
    actor_aad: str, ct_id: int, steps: frozenset[Step], uow: UnitOfWork, d: CommonTimeDeps
) -> bool:
    """The family's consent recorded afterwards by the convener; nothing new: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        given = set().union(*(c.steps for c in ct.consents)) if ct.consents else set()
        new = frozenset(s for s in steps if s in ct.type.consent.steps) - given
        if not steps:
            raise errors.InvalidInput("consent", "required")
        if not new:
            return False
        ct.record_consent(Consent(new, me.id, now))
        await uow.common_times.save(ct)
        await uow.common_times.write(ct.id, Entry("consent", me.id, now, {"steps": sorted(new)}))
        await uow.commit()
        return True


@_retried
async def approve_exception(
    actor_aad: str, ct_id: int, step: Step, uow: UnitOfWork, d: CommonTimeDeps
) -> bool:
    """A coordinator approves going ahead without consent; approved already: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "approving an exception")
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        if any(e.step is step and e.approved for e in ct.exceptions):
            return False
        ct.approve_exception(step, me, now)
        await uow.common_times.save(ct)
        await uow.common_times.write(ct.id, Entry("exception_approved", me.id, now, {"step": step}))
        await uow.commit()
        return True


# -- the team -------------------------------------------------------------------------------


@_retried
async def invite(
    actor_aad: str,
    ct_id: int,
    person_id: int,
    competence: str,
    uow: UnitOfWork,
    d: CommonTimeDeps,
) -> str:
    """The convener invites a team member for a competence; returns their name."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        _require_convener(ct, me, "inviting")
        member = (await _team(uow, d, [person_id])).get(person_id)
        if member is None:
            raise errors.NotFound(f"no one with id {person_id} in the registry")
        before = len(ct.invitations)
        ct.invite(member, competence, now)
        if len(ct.invitations) == before:
            return member.name  # the same invitation again: a double click
        assert ct.id is not None
        await uow.common_times.save(ct)
        await uow.common_times.write(
            ct.id, Entry("invited", me.id, now, {"person": person_id, "competence": competence})
        )
        invitee = await uow.mediators.get(person_id)
        assert invitee is not None
        await _tell(
            uow,
            ct,
            [invitee],
            "invited",
            f"invited:{len(ct.invitations)}",
            now,
            competence=competence,
        )
        await uow.commit()
        return member.name


@_retried
async def answer(
    actor_aad: str, ct_id: int, accept: bool, uow: UnitOfWork, d: CommonTimeDeps
) -> bool:
    """An invitee accepts or declines; the same answer again: False. The convener is told."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        if not ct.answer(me.id, accept, now):
            return False
        await uow.common_times.save(ct)
        how = "accepted" if accept else "declined"
        await uow.common_times.write(ct.id, Entry(how, me.id, now))
        convener = await uow.mediators.get(ct.convener_id)
        assert convener is not None
        await _tell(uow, ct, [convener], how, f"{how}:{me.id}", now, person=me.id)
        await uow.commit()
        return True


@_retried
async def withdraw(
    actor_aad: str, ct_id: int, person_id: int, uow: UnitOfWork, d: CommonTimeDeps
) -> str:
    """The convener takes back a pending invitation; the invitee is told. Returns the name."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        _require_convener(ct, me, "withdrawing an invitation")
        ct.withdraw(person_id, now)
        assert ct.id is not None
        await uow.common_times.save(ct)
        await uow.common_times.write(ct.id, Entry("withdrawn", me.id, now, {"person": person_id}))
        invitee = await uow.mediators.get(person_id)
        assert invitee is not None
        await _tell(uow, ct, [invitee], "withdrawn", f"withdrawn:{len(ct.invitations)}", now)
        await uow.commit()
        return invitee.name


# -- the meetings ---------------------------------------------------------------------------


async def find_times(
    actor_aad: str, ct_id: int, kind: str, uow: UnitOfWork, d: CommonTimeDeps
) -> list[TimeOption]:
    """The attendees' common free times in the coming weeks, each with a free room."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        mailboxes = await _meeting_people(uow, ct, me, kind)
    if not d.rooms:
        raise errors.InvalidInput("room", "required")
    request = _slot_request(ct, kind, now, d)
    schedules = await d.calendar.schedules(
        [*mailboxes, *(r.mailbox for r in d.rooms)], request.start, request.end
    )
    people, rooms = schedules[: len(mailboxes)], schedules[len(mailboxes) :]
    # A calendar may spell a room's mailbox its own way: the room keeps its name.
    named = {schedule.mailbox: room.name for schedule, room in zip(rooms, d.rooms, strict=True)}
    return [
        TimeOption(slot.start, slot.end, named[room], slot.preferred)
        for slot, room in common_free_time(people, rooms, request)
    ]


@dataclass(frozen=True)
class BookMeeting:
    actor: str
    ct_id: int
    kind: str
    start: datetime
    room: str


@_retried
async def book(cmd: BookMeeting, uow: UnitOfWork, d: CommonTimeDeps) -> None:
    """Book the common-time meeting (convener) or the follow-up (responsible worker) at a
    free time with a free room; the attendees are told. The caller then writes the
    calendars (``push_calendar_of``), with a unit of work of its own."""
    now = d.clock.now()
    room = next((r for r in d.rooms if r.name == cmd.room), None)
    if room is None:
        raise errors.InvalidInput("room", "unknown choice")
    async with uow:
        me = await actor(uow, cmd.actor)
        ct = await _load(uow, cmd.ct_id, me)
        mailboxes = await _meeting_people(uow, ct, me, cmd.kind)
    request = _slot_request(ct, cmd.kind, now, d)
    end = cmd.start + timedelta(minutes=request.minutes)
    _check_start(cmd.start, end, request, d)
    schedules = await d.calendar.schedules([*mailboxes, room.mailbox], cmd.start, end)
    if not is_free(schedules, cmd.start, end):
        raise SlotTaken()
    if not within_hours(schedules[:-1], cmd.start, end, d.meetings.working_hours):
        raise SlotInvalid("hours")
    async with uow:
        me = await actor(uow, cmd.actor)
        ct = await _load(uow, cmd.ct_id, me)
        assert me.id is not None and ct.id is not None
        mailboxes = await _meeting_people(uow, ct, me, cmd.kind)  # checks again, as it now is
        if cmd.kind == COMMON_TIME_KIND:
            meeting = ct.book(cmd.start, cmd.room, now)
        else:
            meeting = ct.book_follow_up(me.id, cmd.start, cmd.room, now)
        meeting.organizer = me.email.lower()
        meeting.attendees = (*(m for m in mailboxes if m != meeting.organizer), room.mailbox)
        await uow.common_times.save(ct)
        await uow.common_times.write(
            ct.id,
            Entry("booked", me.id, now, {"kind": cmd.kind, "starts_at": cmd.start.isoformat()}),
        )
        others = [p for p in (await _attending(uow, ct, cmd.kind)) if p.id != me.id]
        local = cmd.start.astimezone(d.policy.zone)
        await _tell(
            uow,
            ct,
            others,
            "booked",
            f"booked:{len(ct.meetings)}",
            now,
            kind=cmd.kind,
            starts_at=cmd.start.isoformat(),
            room=cmd.room,
            day=local.date().isoformat(),
        )
        await uow.commit()


def _slot_request(ct: CommonTime, kind: str, now: datetime, d: CommonTimeDeps) -> SlotRequest:
    template = ct.type.template(kind)
    if template is None:
        raise errors.InvalidInput("kind", "unknown choice")
    mp = d.meetings
    start = now + timedelta(hours=mp.notice_hours)
    end = start + timedelta(days=mp.search_days)
    return SlotRequest(
        start,
        end,
        template.minutes,
        zone=d.policy.timezone,
        closed_days=d.closed_days(start.date(), end.date()),
        default_hours=mp.working_hours,
        limit=mp.slots_shown,
    )


def _check_start(start: datetime, end: datetime, request: SlotRequest, d: CommonTimeDeps) -> None:
    """A time no search would have offered is refused before any calendar is asked."""
    if start.tzinfo is None:
        raise errors.InvalidInput("start", "unknown choice")
    if start < request.start:
        raise SlotInvalid("past")
    if end > request.end:
        raise SlotInvalid("far")
    local = start.astimezone(d.policy.zone)
    if local.minute % request.step_minutes or local.second or local.microsecond:
        raise SlotInvalid("grid")
    if local.date() in request.closed_days:
        raise SlotInvalid("holiday")


async def push_calendar_of(
    ct_id: int, uow: UnitOfWork, d: CommonTimeDeps
) -> CalendarUnavailable | CalendarRefused | None:
    """Carry one common time's pending bookings and cancellations to the calendars; what the
    calendar answered when one did not get through (the scheduler's push tries it again)."""
    async with uow:
        ct = await uow.common_times.get(ct_id)
    if ct is None:
        return None
    return (await _push(ct, uow, d))[1]


async def push_calendar(uow: UnitOfWork, d: CommonTimeDeps) -> int:
    """Every pending booking and cancellation (for the scheduler); returns how many went."""
    async with uow:
        pending = await uow.common_times.calendar_pending()
    done = 0
    for ct in pending:
        done += (await _push(ct, uow, d))[0]
    return done


async def _push(
    ct: CommonTime, uow: UnitOfWork, d: CommonTimeDeps
) -> tuple[int, CalendarUnavailable | CalendarRefused | None]:
    """How many meetings reached the calendars, and the last refusal or silence met."""
    done = 0
    problem: CalendarUnavailable | CalendarRefused | None = None
    for n, meeting in enumerate(ct.meetings):
        if not meeting.calendar.pending or not meeting.organizer:
            continue
        try:
            event_id, state = await _write_event(ct, n, meeting, d)
        except (CalendarUnavailable, CalendarRefused) as exc:
            problem = exc  # the next push tries again, under the same transaction id
            continue
        done += await _mark_pushed(ct, n, event_id, state, uow)
    return done, problem


async def _write_event(
    ct: CommonTime, n: int, meeting: Meeting, d: CommonTimeDeps
) -> tuple[str | None, EventState]:
    draft = EventDraft(
        subject=d.wording.subject(ct.code, meeting.kind),
        body=d.wording.body(ct.code),
        start=meeting.starts_at,
        end=meeting.ends_at,
        attendees=meeting.attendees,
        transaction_id=f"sopu-ct-{ct.id}-{n}",
        # The room is in person: no online meeting.
        online=False,
        rooms=tuple(r.mailbox for r in d.rooms if r.mailbox in meeting.attendees),
        location=meeting.room,
    )
    event_id = meeting.event_id
    if event_id is None:
        # Created, or found by its transaction id when a crash came before it was saved.
        event_id = await d.calendar.create_event(meeting.organizer, draft)
    if meeting.calendar is EventState.CANCEL:
        await d.calendar.cancel_event(
            meeting.organizer, event_id, d.wording.cancel_comment(ct.code)
        )
        return event_id, EventState.CANCELLED
    return event_id, EventState.SYNCED


async def _mark_pushed(
    ct: CommonTime, n: int, event_id: str | None, state: EventState, uow: UnitOfWork
) -> int:
    """Save where the event stands; a change meanwhile is read again and kept."""
    assert ct.id is not None
    for _ in range(3):
        async with uow:
            fresh = await uow.common_times.get(ct.id)
            if fresh is None or n >= len(fresh.meetings):
                return 0
            meeting = fresh.meetings[n]
            meeting.event_id = event_id
            if meeting.calendar is EventState.CANCEL and state is EventState.SYNCED:
                return 0  # cancelled while it was being written: the next push cancels it
            meeting.calendar = state
            try:
                await uow.common_times.save(fresh)
                await uow.commit()
            except errors.ConcurrentChange:
                continue
            return 1
    return 0


@_retried
async def record_held(
    actor_aad: str, ct_id: int, responsible: Sequence[int], uow: UnitOfWork, d: CommonTimeDeps
) -> CommonTimeView:
    """The convener records that the meeting was held and whom the family named as the
    responsible worker (or pair); they are told. The attendees are asked for their feedback,
    and the family's feedback link is made for the convener's card."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        _require_convener(ct, me, "recording the meeting")
        assert me.id is not None and ct.id is not None
        if len(set(responsible)) > 2 or not responsible:
            raise errors.InvalidInput("responsible", "unknown choice")
        team = await _team(uow, d, list(responsible))
        workers = [team[i] for i in responsible if i in team]
        if len(workers) != len(set(responsible)):
            raise errors.InvalidInput("responsible", "unknown choice")
        ct.record_held(now)
        ct.name_responsible(workers)
        await uow.common_times.save(ct)
        await uow.common_times.write(
            ct.id, Entry("held", me.id, now, {"responsible": list(ct.responsible_ids)})
        )
        named = await uow.mediators.by_ids(list(ct.responsible_ids))
        await _tell(
            uow, ct, [p for p in named.values() if p.id != me.id], "responsible", "responsible", now
        )
        attendees = await uow.mediators.by_ids(list(ct.attendee_ids()))
        await _tell(uow, ct, list(attendees.values()), "feedback_asked", "feedback", now)
        year = held_year(ct, d.policy.local_date)
        assert year is not None
        expires = now + timedelta(days=d.feedback_link_days)
        await uow.common_time_feedback.add_link(FamilyLink(new_token(), ct.id, year, expires), now)
        view = await _view(uow, ct, me, d)
        await uow.commit()
        return view


@_retried
async def record_plan(
    actor_aad: str, ct_id: int, plan: JointPlan, uow: UnitOfWork, d: CommonTimeDeps
) -> CommonTimeView:
    """The convener records the joint plan; it goes to the responsible workers and the
    parties the family agreed to, who are told."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        known = await uow.mediators.by_ids(list(plan.shared_with))
        if set(known) != set(plan.shared_with) or any(not p.active for p in known.values()):
            raise errors.InvalidInput("shared_with", "unknown choice")
        ct.record_plan(plan, me.id, d.policy.local_date(now))
        await uow.common_times.save(ct)
        await uow.common_times.write(
            ct.id, Entry("plan", me.id, now, {"shared_with": sorted(plan.shared_with)})
        )
        readers = await uow.mediators.by_ids(list((ct.own_workers() | plan.shared_with) - {me.id}))
        await _tell(uow, ct, list(readers.values()), "plan_shared", "plan", now)
        view = await _view(uow, ct, me, d, with_plan=True)
        await uow.commit()
        return view


@_retried
async def mark_action(
    actor_aad: str, ct_id: int, index: int, done: bool, uow: UnitOfWork, d: CommonTimeDeps
) -> CommonTimeView:
    """The responsible worker marks one of the plan's actions done or not done."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        ct.mark_action(me.id, index, done)
        await uow.common_times.save(ct)
        await uow.common_times.write(
            ct.id, Entry("marked", me.id, now, {"index": index, "done": done})
        )
        await uow.common_times.write(ct.id, Entry("plan_read", me.id, now))
        view = await _view(uow, ct, me, d, with_plan=True)
        await uow.commit()
        return view


@_retried
async def close(actor_aad: str, ct_id: int, uow: UnitOfWork, d: CommonTimeDeps) -> None:
    """The responsible worker closes the follow-up."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        ct.close(me.id, now)
        await uow.common_times.save(ct)
        await uow.common_times.write(ct.id, Entry("closed", me.id, now))
        await uow.commit()


@_retried
async def cancel(actor_aad: str, ct_id: int, uow: UnitOfWork, d: CommonTimeDeps) -> None:
    """The convener cancels: open invitations and coming meetings end; those asked are told.
    The caller then takes the meetings out of the calendars (``push_calendar_of``)."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        ct.cancel(me.id, now)
        await uow.common_times.save(ct)
        await uow.common_times.write(ct.id, Entry("cancelled", me.id, now))
        asked = [i.person_id for i in ct.invitations if i.open]
        people = await uow.mediators.by_ids([*asked, *ct.responsible_ids])
        await _tell(
            uow, ct, [p for p in people.values() if p.id != me.id], "cancelled", "cancelled", now
        )
        await uow.commit()


# -- feedback -------------------------------------------------------------------------------


async def feedback_form(
    actor_aad: str, ct_id: int, uow: UnitOfWork, d: CommonTimeDeps
) -> TeamFeedbackView:
    """An attendee's feedback form, with their answer if they gave it."""
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        check_may_give_feedback(ct, me.id, d.policy.local_date)
        given = await uow.common_time_feedback.team_feedback(ct.id, me.id)
        return TeamFeedbackView(ct.id, ct.code, given)


async def give_feedback(
    actor_aad: str, ct_id: int, form: Mapping[str, object], uow: UnitOfWork, d: CommonTimeDeps
) -> bool:
    """An attendee says how useful the held meeting was and whether the right competences
    were there, once: a second answer changes nothing (False)."""
    feedback = parse_team_feedback(form)
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        ct = await _load(uow, ct_id, me)
        assert me.id is not None and ct.id is not None
        year = check_may_give_feedback(ct, me.id, d.policy.local_date)
        stored = await uow.common_time_feedback.add_team_feedback(ct.id, me.id, year, feedback, now)
        if not stored:
            return False
        await uow.common_times.write(ct.id, Entry("feedback", me.id, now))
        await uow.commit()
        return True


async def family_link_state_of(token: str, uow: UnitOfWork, now: datetime) -> str | None:
    """Whether a common time's family link takes an answer; None: no such link."""
    if not looks_like_token(token):
        return None
    async with uow:
        link = await uow.common_time_feedback.link(token)
    return family_link_state(link, now) if link is not None else None


async def submit_family_answer(
    token: str, form: Mapping[str, object], uow: UnitOfWork, clock: Clock, form_id: str = ""
) -> str:
    """The family sends the form on the feedback page: one use of the link is taken and
    the answer stored with its year only. Returns a :class:`LinkState`; an answer that
    does not fit raises InvalidInput/InvalidForm before anything is stored."""
    if not looks_like_token(token):
        return LinkState.UNKNOWN
    now = clock.now()
    async with uow:
        link = await uow.common_time_feedback.link(token)
        if link is not None and form_id and link.last_form == form_id:
            return LinkState.SENT
        state = family_link_state(link, now)
        if state != LinkState.OPEN:
            return state
        answer = parse_family_answer(form)
        state = await uow.common_time_feedback.answer_once(token, now, answer, form_id)
        if state == LinkState.OPEN:
            await uow.commit()
        return state


async def feedback_figures(actor_aad: str, year: int, uow: UnitOfWork) -> CommonTimeFeedbackFigures:
    """A year's feedback on common times, the attendees' and the families' (coordinators
    only)."""
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "viewing the statistics")
        team, family = await uow.common_time_feedback.of_year(year)
    return common_time_feedback_figures(team, family)


# -- jobs and figures -----------------------------------------------------------------------


async def follow_up_reminders(uow: UnitOfWork, today: date, now: datetime) -> int:
    """The responsible workers whose next contact is near and no follow-up is booked yet;
    one reminder per plan's next contact. Returns how many were new."""
    added = 0
    async with uow:
        for ct in await uow.common_times.with_status([Status.FOLLOW_UP]):
            if not ct.reminder_due(today):
                continue
            due = ct.follow_up_due()
            assert due is not None
            people = await uow.mediators.by_ids(list(ct.responsible_ids))
            added += await _tell(
                uow,
                ct,
                list(people.values()),
                "follow_up_due",
                f"follow_up:{due.isoformat()}",
                now,
                day=due.isoformat(),
            )
        await uow.commit()
    return added


async def erase_ended(uow: UnitOfWork, now: datetime, keep_days: int) -> int:
    """The retention purge: the texts of common times ended ``keep_days`` ago are erased,
    each erasure journaled; returns how many."""
    async with uow:
        ended = await uow.common_times.with_status([Status.CLOSED, Status.CANCELLED])
        due = due_for_erasure(ended, now, keep_days)
        for ct in due:
            assert ct.id is not None
            await uow.common_times.erase_texts(ct.id, now)
            await uow.common_times.write(ct.id, Entry("purged", None, now, {"days": keep_days}))
        await uow.commit()
    return len(due)


async def figures(
    actor_aad: str, year: int, uow: UnitOfWork, policy: BankPolicy
) -> CommonTimeFigures:
    """A year's common times as the family centre reports them (coordinators only)."""
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "viewing the statistics")
        found = await uow.common_times.with_status(list(Status))
    return common_time_figures(found, year, policy.local_date)


async def linked_figures(year: int, uow: UnitOfWork, policy: BankPolicy) -> CommonTimeFigures:
    """The same figures for a signed download link: a coordinator was given the link, so
    the link itself is the permission (bot/stats_download.py checks it first)."""
    async with uow:
        found = await uow.common_times.with_status(list(Status))
    return common_time_figures(found, year, policy.local_date)


# -- helpers --------------------------------------------------------------------------------


async def _load(uow: UnitOfWork, ct_id: int, me: Mediator) -> CommonTime:
    """The common time, if the actor has a part in it; anyone else hears it does not exist."""
    ct = await uow.common_times.get(ct_id)
    if ct is None or not _parts(ct, me):
        raise errors.NotFound(f"no common time {ct_id} for this person")
    return ct


def _parts(ct: CommonTime, me: Mediator) -> frozenset[Part]:
    parts = set()
    if me.id == ct.convener_id:
        parts.add(Part.CONVENER)
    if any(i.person_id == me.id for i in ct.invitations):
        parts.add(Part.INVITEE)
    if me.id in ct.responsible_ids:
        parts.add(Part.RESPONSIBLE)
    if ct.plan is not None and me.id in ct.plan.shared_with:
        parts.add(Part.PLAN_PARTY)
    if me.is_coordinator:
        parts.add(Part.COORDINATOR)
    return frozenset(parts)


def _require_convener(ct: CommonTime, me: Mediator, action: str) -> None:
    if me.id != ct.convener_id:
        raise errors.NotAllowed(action, "only the convener")


async def _team(
    uow: UnitOfWork, d: CommonTimeDeps, ids: Sequence[int] | None = None
) -> dict[int, TeamMember]:
    """The registry's people as team members: their competences, organisation and whether
    they can take part today (active, not away, their organisation in the network)."""
    today = d.policy.local_date(d.clock.now())
    if ids is None:
        people = list(await uow.mediators.list(active_only=True))
    else:
        people = list((await uow.mediators.by_ids(list(ids))).values())
    people = [p for p in people if p.id is not None and not p.is_booker]
    competences = await uow.qualifications.of([p.id for p in people if p.id is not None])
    organisations = {o.name.casefold(): o for o in await uow.organisations.list()}
    team = {}
    for p in people:
        assert p.id is not None
        org = organisations.get(" ".join(p.employer.split()).casefold())
        available = p.active and p.away_on(today) is None and (org is None or org.in_network(today))
        team[p.id] = TeamMember(p.id, p.name, competences.get(p.id, frozenset()), org, available)
    return team


async def _meeting_people(uow: UnitOfWork, ct: CommonTime, me: Mediator, kind: str) -> list[str]:
    """The mailboxes of those who attend a meeting of ``kind``, after checking that the
    actor is the one who books it."""
    if kind == COMMON_TIME_KIND:
        _require_convener(ct, me, "booking the common time")
        ct.check_can_book()
    elif kind == FOLLOW_UP_KIND:
        if me.id not in ct.responsible_ids:
            raise errors.NotAllowed("booking the follow-up", "only the responsible worker")
        if ct.status is not Status.FOLLOW_UP:
            raise errors.IllegalTransition("book the follow-up of", ct.status.value)
    else:
        raise errors.InvalidInput("kind", "unknown choice")
    people = await _attending(uow, ct, kind)
    return [p.email.lower() for p in people]


async def _attending(uow: UnitOfWork, ct: CommonTime, kind: str) -> list[Mediator]:
    ids = ct.attendee_ids() if kind == COMMON_TIME_KIND else ct.responsible_ids
    found = await uow.mediators.by_ids(list(ids))
    return [found[i] for i in ids if i in found]


async def _tell(
    uow: UnitOfWork,
    ct: CommonTime,
    people: Iterable[Mediator],
    note: str,
    period: str,
    now: datetime,
    **params: object,
) -> int:
    """Notes to people about the common time, in the outbox with the change; the card is
    built when sent, as the recipient may then see the case. Ids and codes only."""
    assert ct.id is not None
    messages = [
        NewMessage(
            OutboxKey(MessageKind.COMMON_TIME, p.aad_object_id, f"commontime:{ct.id}", period),
            {"ct_id": ct.id, "code": ct.code, "note": note, **params},
        )
        for p in people
        if p.aad_object_id
    ]
    return await uow.outbox.add(messages, now) if messages else 0


async def _view(
    uow: UnitOfWork,
    ct: CommonTime,
    me: Mediator,
    d: CommonTimeDeps,
    *,
    with_plan: bool = False,
    details: bool = True,
) -> CommonTimeView:
    """The common time for one person: what they may not see left out."""
    assert ct.id is not None and me.id is not None
    parts = _parts(ct, me)
    convener = Part.CONVENER in parts
    ids = {ct.convener_id, *(i.person_id for i in ct.invitations), *ct.responsible_ids}
    ids |= {e.asked_by for e in ct.exceptions} | {
        e.approved_by for e in ct.exceptions if e.approved_by
    }
    if ct.plan is not None:
        ids |= ct.plan.shared_with
    people = await uow.mediators.by_ids(sorted(ids))

    def person(pid: int) -> Person:
        found = people.get(pid)
        return Person(pid, found.name if found is not None else "?")

    may_justify = convener or Part.COORDINATOR in parts
    plan = None
    if with_plan and ct.plan is not None:
        ct.check_may_read_plan(me.id)
        plan = ct.plan
    candidates: dict[str, tuple[Person, ...]] = {}
    responsible_choices: tuple[Person, ...] = ()
    party_choices: tuple[Person, ...] = ()
    if details and convener and ct.status is Status.CONVENING:
        candidates = await _candidates(uow, ct, d)
    if details and convener and ct.status is Status.BOOKED:
        team = await _team(uow, d)
        responsible_choices = tuple(
            Person(m.id, m.name)
            for m in sorted(team.values(), key=lambda m: m.name.casefold())
            if m.available and m.organisation is not None and m.organisation.kind in PUBLIC_SERVICES
        )
    if details and convener and ct.status is Status.HELD:
        everyone = await uow.mediators.list(active_only=True)
        party_choices = tuple(
            Person(p.id, p.name)
            for p in sorted(everyone, key=lambda p: p.name.casefold())
            if p.id is not None and p.id not in ct.own_workers() and not p.is_booker
        )
    return CommonTimeView(
        id=ct.id,
        code=ct.code,
        status=ct.status,
        municipality=ct.municipality,
        created_at=ct.created_at,
        competences=tuple(sorted(ct.competences)),
        viewer=Person(me.id, me.name),
        parts=parts,
        convener=person(ct.convener_id),
        consented=frozenset(s for c in ct.consents for s in c.steps),
        needs_consent=ct.type.consent.steps,
        exceptions=tuple(
            ExceptionLine(
                e.step,
                person(e.asked_by),
                e.asked_at,
                person(e.approved_by) if e.approved_by is not None else None,
                e.justification if may_justify else None,
            )
            for e in ct.exceptions
        ),
        invitations=tuple(
            InvitationLine(person(i.person_id), i.competence, i.answer) for i in ct.invitations
        ),
        uncovered=tuple(sorted(ct.uncovered())),
        candidates=candidates,
        meetings=tuple(
            MeetingLine(
                n,
                m.kind,
                m.starts_at,
                m.ends_at,
                m.room,
                m.held,
                m.cancelled,
                m.calendar in (EventState.SYNCED, EventState.CANCELLED),
            )
            for n, m in enumerate(ct.meetings)
        ),
        responsible=tuple(person(i) for i in ct.responsible_ids),
        responsible_choices=responsible_choices,
        has_plan=ct.plan is not None and ct.purged_at is None,
        plan=plan,
        actions=tuple(
            ActionLine(n, a.place.value, a.what, a.where, a.done)
            for n, a in enumerate(plan.actions)
        )
        if plan is not None
        else (),
        plan_shared_with=tuple(person(i) for i in sorted(plan.shared_with)) if plan else (),
        plan_party_choices=party_choices,
        next_contact=plan.next_contact if plan is not None else None,
        family_link=await _family_link(uow, ct, d) if details and convener else None,
    )


async def _family_link(uow: UnitOfWork, ct: CommonTime, d: CommonTimeDeps) -> FamilyLinkLine | None:
    """The family's feedback link, while it takes answers (made when the meeting is held)."""
    if ct.status not in (Status.HELD, Status.FOLLOW_UP, Status.CLOSED):
        return None
    assert ct.id is not None
    link = await uow.common_time_feedback.link_of(ct.id)
    if link is None or family_link_state(link, d.clock.now()) != LinkState.OPEN:
        return None
    return FamilyLinkLine(link.token, link.expires_at)


async def _candidates(
    uow: UnitOfWork, ct: CommonTime, d: CommonTimeDeps
) -> dict[str, tuple[Person, ...]]:
    """For each competence not yet covered, who may be invited: those with the fewest open
    invitations across the running common times first."""
    team = await _team(uow, d)
    load: Counter[int] = Counter()
    for other in await uow.common_times.with_status(list(ACTIVE)):
        load.update(i.person_id for i in other.invitations if i.open)
    ordered = sorted(team.values(), key=lambda m: (load[m.id], m.name.casefold()))
    return {
        competence: tuple(Person(m.id, m.name) for m in ct.replacements(competence, ordered))
        for competence in sorted(ct.uncovered())
    }
