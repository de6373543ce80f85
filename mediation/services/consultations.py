"""Consultation requests to the expert team, as use cases: sending one, the exception's
approval, the day's agenda, the experts' answers, the team's answer and its reading, the
figures (the rules are in mediation/consultation.py).

Each use case commits once; what it tells people is written to the outbox in the same
transaction, ids and codes only. Each showing of a request's texts to someone other than
its requester, and each reading of the answer, is a line of the request's journal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from mediation import errors
from mediation.calendar.errors import CalendarRefused, CalendarUnavailable, SlotTaken
from mediation.calendar.ports import Calendar, EventDraft
from mediation.common_time import EventState
from mediation.consultation import (
    CATEGORIES,
    CLIENT_MEETING_KIND,
    CONSULTATION,
    SPECIALITIES,
    AnswerKind,
    Consultation,
    ConsultationDays,
    ConsultationFigures,
    ConsultationRefused,
    Entry,
    Expert,
    MeetingEvent,
    Status,
    TeamAnswer,
    agenda_order,
    consultation_figures,
)
from mediation.consultation_views import (
    AnswerView,
    ConsultationList,
    ConsultationView,
    DayAgenda,
    InvitationLine,
    Part,
    Person,
)
from mediation.model import Mediator
from mediation.outbox import MessageKind, NewMessage, OutboxKey
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.services.common import MAX_ATTEMPTS, actor
from mediation.slots import is_free

OPEN = (Status.WAITING, Status.ON_AGENDA)
LIST_RECENT = 30


@dataclass(frozen=True)
class ConsultationDeps:
    """What the consultations' use cases need besides the unit of work."""

    clock: Clock
    policy: BankPolicy
    days: ConsultationDays
    # The client meeting goes into the experts' calendars; without a calendar it is recorded
    # with the answer only.
    calendar: Calendar | None = None
    wording: MeetingWording | None = None


class MeetingWording(Protocol):
    """The texts of a client meeting's calendar event (the bot fills them in a language)."""

    def subject(self, code: str) -> str: ...

    def body(self, code: str) -> str: ...


# -- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendRequest:
    actor: str
    region: str
    categories: frozenset[str]
    question: str
    urgent: bool = False
    background: str = ""
    birth_years: tuple[int, ...] = ()
    consent_given_on: date | None = None  # None: no consent, and a justification
    justification: str = ""


async def send(cmd: SendRequest, uow: UnitOfWork, d: ConsultationDeps) -> ConsultationView:
    """A professional sends a request; the coordinators are told (an urgent one at once,
    with its own alert), and an exception to consent waits for one of them to approve."""
    now = d.clock.now()
    if cmd.region not in d.policy.areas:
        raise errors.InvalidInput("region", "choose from the list")
    async with uow:
        me = await actor(uow, cmd.actor)
        assert me.id is not None
        code = await uow.consultations.next_code(d.policy.local_date(now).year)
        request = Consultation.send(
            code,
            me.id,
            cmd.region,
            cmd.categories,
            cmd.question,
            now,
            urgent=cmd.urgent,
            background=cmd.background,
            birth_years=cmd.birth_years,
            consent_given_on=cmd.consent_given_on,
            justification=cmd.justification,
        )
        request = await uow.consultations.add(request)
        assert request.id is not None
        await uow.consultations.write(
            request.id,
            Entry(
                "sent",
                me.id,
                now,
                {"urgent": request.urgent, "basis": request.consent_basis.value},
            ),
        )
        coordinators = [c for c in await uow.mediators.coordinators() if c.active and c.id != me.id]
        note = "urgent" if request.urgent else "new"
        await _tell(uow, request, coordinators, note, "sent", now)
        view = await _view(uow, request, me, d)
        await uow.commit()
        return view


async def approve_exception(
    actor_aad: str, c_id: int, uow: UnitOfWork, d: ConsultationDeps
) -> bool:
    """A coordinator other than the requester lets the request go without consent; the
    requester is told. Approved already: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        _require_coordinator(me)
        request = await _load(uow, c_id, me)
        assert me.id is not None and request.id is not None
        if not request.approve_exception(me, now):
            return False
        await uow.consultations.save(request)
        await uow.consultations.write(request.id, Entry("exception_approved", me.id, now))
        await _tell_requester(uow, request, "exception_approved", "approved", now)
        await uow.commit()
        return True


async def withdraw(actor_aad: str, c_id: int, uow: UnitOfWork, d: ConsultationDeps) -> None:
    """The requester takes the request back; the experts asked are told."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        request = await _load(uow, c_id, me)
        assert me.id is not None and request.id is not None
        request.withdraw(me.id)
        await uow.consultations.save(request)
        await uow.consultations.write(request.id, Entry("withdrawn", me.id, now))
        asked = await uow.mediators.by_ids([i.person_id for i in request.invitations if i.open])
        await _tell(uow, request, asked.values(), "withdrawn", "withdrawn", now)
        await uow.commit()


# -- the agenda and the experts -------------------------------------------------------------


async def place(actor_aad: str, c_id: int, day: date, uow: UnitOfWork, d: ConsultationDeps) -> bool:
    """A coordinator puts the request on a consultation day's agenda (or moves it there);
    the requester is told the day. The same day again: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        _require_coordinator(me)
        request = await _load(uow, c_id, me)
        assert me.id is not None and request.id is not None
        on_day = await uow.consultations.on_day(day)
        local = now.astimezone(d.policy.zone)
        if not request.place(day, d.days, local.date(), on_day, local.time()):
            return False
        await uow.consultations.save(request)
        await uow.consultations.write(
            request.id, Entry("placed", me.id, now, {"day": day.isoformat()})
        )
        await _tell_requester(
            uow, request, "placed", f"placed:{day.isoformat()}", now, day=day.isoformat()
        )
        await uow.commit()
        return True


async def ask(
    actor_aad: str,
    c_id: int,
    person_id: int,
    speciality: str,
    uow: UnitOfWork,
    d: ConsultationDeps,
) -> str:
    """A coordinator asks an expert for a speciality; the expert gets the request on a card.
    Returns the expert's name."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        _require_coordinator(me)
        request = await _load(uow, c_id, me)
        assert me.id is not None and request.id is not None
        expert = (await _experts(uow, d, [person_id])).get(person_id)
        if expert is None:
            raise errors.NotFound(f"no one with id {person_id} in the registry")
        if not request.ask(expert, speciality, now):
            return expert.name
        await uow.consultations.save(request)
        await uow.consultations.write(
            request.id, Entry("asked", me.id, now, {"person": person_id, "speciality": speciality})
        )
        person = await uow.mediators.get(person_id)
        assert person is not None
        await _tell(
            uow, request, [person], "asked", f"asked:{person_id}", now, speciality=speciality
        )
        await uow.commit()
        return expert.name


async def reply(
    actor_aad: str, c_id: int, accept: bool, uow: UnitOfWork, d: ConsultationDeps
) -> bool:
    """An expert accepts or declines; the coordinators are told. The same answer: False."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        request = await _load(uow, c_id, me)
        assert me.id is not None and request.id is not None
        if not request.reply(me.id, accept, now):
            return False
        await uow.consultations.save(request)
        how = "accepted" if accept else "declined"
        await uow.consultations.write(request.id, Entry(how, me.id, now))
        coordinators = [c for c in await uow.mediators.coordinators() if c.active]
        await _tell(uow, request, coordinators, how, f"{how}:{me.id}", now, person=me.id)
        await uow.commit()
        return True


# -- the answer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GiveAnswer:
    actor: str
    c_id: int
    kind: AnswerKind
    text: str
    meeting_at: datetime | None = None
    meeting_place: str = ""
    attendees: tuple[int, ...] = ()


async def answer(cmd: GiveAnswer, uow: UnitOfWork, d: ConsultationDeps) -> ConsultationView:
    """A coordinator records the team's answer; the requester (and a client meeting's
    experts) are told, and the requester opens it on a card."""
    now = d.clock.now()
    mailboxes = await _free_for_meeting(cmd, uow, d)
    async with uow:
        me = await actor(uow, cmd.actor)
        _require_coordinator(me)
        request = await _load(uow, cmd.c_id, me)
        assert me.id is not None and request.id is not None
        request.give_answer(
            TeamAnswer(
                cmd.kind,
                cmd.text,
                me.id,
                now,
                cmd.meeting_at,
                cmd.meeting_place,
                tuple(dict.fromkeys(cmd.attendees)),
            )
        )
        if mailboxes is not None:
            request.event = MeetingEvent(me.email.lower(), mailboxes)
        await uow.consultations.save(request)
        await uow.consultations.write(
            request.id,
            Entry(
                "answered", me.id, now, {"kind": cmd.kind.value, "attendees": list(cmd.attendees)}
            ),
        )
        await _tell_requester(uow, request, "answered", "answered", now)
        if cmd.attendees:
            experts = await uow.mediators.by_ids(list(cmd.attendees))
            await _tell(uow, request, experts.values(), "client_meeting", "meeting", now)
        view = await _view(uow, request, me, d, with_answer=True)
        await uow.consultations.write(request.id, Entry("seen", me.id, now, {"what": "answer"}))
        await uow.commit()
        return view


async def _free_for_meeting(
    cmd: GiveAnswer, uow: UnitOfWork, d: ConsultationDeps
) -> tuple[str, ...] | None:
    """The client meeting's experts' mailboxes, once their calendars show them free at the
    time agreed (a time taken meanwhile is refused); None when nothing is booked. Only a
    coordinator's answer reads the calendars: anyone else learns nothing of them."""
    if cmd.kind is not AnswerKind.CLIENT_MEETING or cmd.meeting_at is None or d.calendar is None:
        return None
    async with uow:
        me = await actor(uow, cmd.actor)
        _require_coordinator(me)
        await _load(uow, cmd.c_id, me)
        experts = await uow.mediators.by_ids(list(cmd.attendees))
    mailboxes = tuple(sorted({p.email.lower() for p in experts.values() if p.email}))
    if not mailboxes:
        return None
    end = cmd.meeting_at + timedelta(minutes=_meeting_minutes())
    schedules = await d.calendar.schedules(list(mailboxes), cmd.meeting_at, end)
    if not is_free(schedules, cmd.meeting_at, end):
        raise SlotTaken()
    return mailboxes


def _meeting_minutes() -> int:
    template = CONSULTATION.template(CLIENT_MEETING_KIND)
    assert template is not None
    return template.minutes


async def push_calendar_of(
    c_id: int, uow: UnitOfWork, d: ConsultationDeps
) -> CalendarUnavailable | CalendarRefused | None:
    """Write one request's client meeting into the organiser's calendar, if it waits; what
    the calendar answered if it did not get through (the scheduler's push tries again)."""
    async with uow:
        request = await uow.consultations.get(c_id)
    return (await _push(request, uow, d))[1] if request is not None else None


async def push_calendar(uow: UnitOfWork, d: ConsultationDeps) -> int:
    """Every client meeting still waiting for the calendar (for the scheduler)."""
    async with uow:
        pending = await uow.consultations.calendar_pending()
    done = 0
    for request in pending:
        done += (await _push(request, uow, d))[0]
    return done


async def _push(
    request: Consultation, uow: UnitOfWork, d: ConsultationDeps
) -> tuple[int, CalendarUnavailable | CalendarRefused | None]:
    """Whether the meeting reached the calendar (1 or 0), and the calendar's refusal or
    silence if it did not."""
    event, answer = request.event, request.answer
    if event is None or event.state is not EventState.CREATE or d.calendar is None:
        return 0, None
    if answer is None or answer.meeting_at is None or d.wording is None:
        return 0, None
    start = answer.meeting_at
    draft = EventDraft(
        subject=d.wording.subject(request.code),
        body=d.wording.body(request.code),
        start=start,
        end=start + timedelta(minutes=_meeting_minutes()),
        attendees=event.mailboxes,
        transaction_id=f"sopu-consultation-{request.id}",
        online=False,
        location=answer.meeting_place,
    )
    try:
        # Created, or found by its transaction id when a crash came before it was saved.
        event_id = await d.calendar.create_event(event.organizer, draft)
    except (CalendarUnavailable, CalendarRefused) as exc:
        return 0, exc  # the next push tries again
    assert request.id is not None
    for _ in range(MAX_ATTEMPTS):
        async with uow:
            fresh = await uow.consultations.get(request.id)
            if fresh is None or fresh.event is None:
                return 0, None
            fresh.event.event_id, fresh.event.state = event_id, EventState.SYNCED
            try:
                await uow.consultations.save(fresh)
                await uow.commit()
            except errors.ConcurrentChange:
                continue
            return 1, None
    return 0, None


# -- reading --------------------------------------------------------------------------------


async def show(
    actor_aad: str,
    c_id: int,
    uow: UnitOfWork,
    d: ConsultationDeps,
    *,
    with_answer: bool = False,
    journal: bool = True,
) -> ConsultationView:
    """The request as the actor may see it; who saw its texts (or opened the answer) is
    journaled. Anyone with no part hears it does not exist.

    Without ``journal`` the showing is not written: a refused click shows again the card
    the clicker had, whose showing was journaled already."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        request = await _load(uow, c_id, me)
        assert me.id is not None and request.id is not None
        if with_answer and not _may_read_answer(request, me):
            raise ConsultationRefused("answer_not_yours")
        view = await _view(uow, request, me, d, with_answer=with_answer)
        seen = [w for w, shown in (("request", view.question), ("answer", view.answer)) if shown]
        if me.id == request.requester_id and "request" in seen:
            seen.remove("request")  # their own text
        if not journal:
            seen = []
        for what in seen:
            await uow.consultations.write(request.id, Entry("seen", me.id, now, {"what": what}))
        if seen:
            await uow.commit()
        return view


async def listing(actor_aad: str, uow: UnitOfWork, d: ConsultationDeps) -> ConsultationList:
    """The actor's requests and those asked of them; for a coordinator also the requests
    waiting for a day (urgent first) and the next days' agendas."""
    async with uow:
        me = await actor(uow, actor_aad)
        assert me.id is not None
        mine = (await uow.consultations.for_person(me.id))[:LIST_RECENT]
        views = [await _view(uow, c, me, d, details=False) for c in mine]
        waiting: list[ConsultationView] = []
        agendas: list[DayAgenda] = []
        if me.is_coordinator:
            running = await uow.consultations.with_status(list(OPEN))
            for c in agenda_order(r for r in running if r.status is Status.WAITING):
                waiting.append(await _view(uow, c, me, d, details=False))
            for day in _upcoming(d):
                on_day = agenda_order(r for r in running if r.day == day)
                agendas.append(
                    DayAgenda(
                        day, tuple([await _view(uow, c, me, d, details=False) for c in on_day])
                    )
                )
        return ConsultationList(
            Person(me.id, me.name),
            me.is_coordinator,
            tuple(waiting),
            tuple(agendas),
            tuple(views),
            d.days.capacity,
        )


async def figures(
    actor_aad: str, year: int, uow: UnitOfWork, policy: BankPolicy
) -> ConsultationFigures:
    """A year's consultation requests as the expert team reports them (coordinators only)."""
    async with uow:
        me = await actor(uow, actor_aad)
        _require_coordinator(me)
        found = await uow.consultations.with_status(list(Status))
    return consultation_figures(found, year, policy.local_date)


# -- helpers --------------------------------------------------------------------------------


def _require_coordinator(me: Mediator) -> None:
    if not me.is_coordinator:
        raise ConsultationRefused("coordinators_only")


async def _load(uow: UnitOfWork, c_id: int, me: Mediator) -> Consultation:
    """The request, if the actor has a part in it; anyone else hears it does not exist."""
    request = await uow.consultations.get(c_id)
    if request is None or not _parts(request, me):
        raise errors.NotFound(f"no consultation {c_id} for this person")
    return request


def _parts(request: Consultation, me: Mediator) -> frozenset[Part]:
    parts = set()
    if me.id == request.requester_id:
        parts.add(Part.REQUESTER)
    if any(i.person_id == me.id for i in request.invitations):
        parts.add(Part.EXPERT)
    if me.is_coordinator:
        parts.add(Part.COORDINATOR)
    return frozenset(parts)


def _may_read_request(request: Consultation, me: Mediator) -> bool:
    """The requester, the coordinators and the experts asked who have not declined."""
    if me.id == request.requester_id or me.is_coordinator:
        return True
    assert me.id is not None
    mine = request.invitation_of(me.id)
    return mine is not None and mine.open


def _may_read_answer(request: Consultation, me: Mediator) -> bool:
    """The requester, the coordinators and the experts who took part."""
    if request.answer is None:
        return False
    if me.id == request.requester_id or me.is_coordinator:
        return True
    return any(i.person_id == me.id for i in request.accepted())


async def _experts(
    uow: UnitOfWork, d: ConsultationDeps, ids: Sequence[int] | None = None
) -> dict[int, Expert]:
    """The registry's people with an expert speciality, and whether they can take part
    today (active, not away)."""
    today = d.policy.local_date(d.clock.now())
    if ids is None:
        people = list(await uow.mediators.list(active_only=True))
    else:
        people = list((await uow.mediators.by_ids(list(ids))).values())
    people = [p for p in people if p.id is not None and not p.is_booker]
    held = await uow.qualifications.of([p.id for p in people if p.id is not None])
    experts = {}
    for p in people:
        assert p.id is not None
        available = p.active and p.away_on(today) is None
        experts[p.id] = Expert(p.id, p.name, held.get(p.id, frozenset()), available)
    return experts


async def _candidates(
    uow: UnitOfWork, request: Consultation, d: ConsultationDeps
) -> dict[str, tuple[Person, ...]]:
    """For each speciality, who may be asked: able, available, not asked yet, the least
    asked across the open requests first."""
    experts = await _experts(uow, d)
    load: Counter[int] = Counter()
    for other in await uow.consultations.with_status(list(OPEN)):
        load.update(i.person_id for i in other.invitations if i.open)
    asked = {i.person_id for i in request.invitations}
    ordered = sorted(experts.values(), key=lambda e: (load[e.id], e.name.casefold()))
    found: dict[str, tuple[Person, ...]] = {}
    for speciality in sorted({s for e in ordered for s in e.specialities}):
        people = tuple(
            Person(e.id, e.name)
            for e in ordered
            if speciality in e.specialities
            and e.available
            and e.id not in asked
            and e.id != request.requester_id
        )
        if people:
            found[speciality] = people
    return {s: found[s] for s in SPECIALITIES if s in found}


async def _tell(
    uow: UnitOfWork,
    request: Consultation,
    people: Iterable[Mediator],
    note: str,
    period: str,
    now: datetime,
    **params: object,
) -> int:
    """Notes to people about the request, in the outbox with the change; the card is built
    when sent, as the recipient may then see it. Ids and codes only."""
    assert request.id is not None
    messages = [
        NewMessage(
            OutboxKey(
                MessageKind.CONSULTATION, p.aad_object_id, f"consultation:{request.id}", period
            ),
            {"c_id": request.id, "code": request.code, "note": note, **params},
        )
        for p in people
        if p.aad_object_id
    ]
    return await uow.outbox.add(messages, now) if messages else 0


async def _tell_requester(
    uow: UnitOfWork,
    request: Consultation,
    note: str,
    period: str,
    now: datetime,
    **params: object,
) -> int:
    requester = await uow.mediators.get(request.requester_id)
    if requester is None or not requester.active:
        return 0
    return await _tell(uow, request, [requester], note, period, now, **params)


async def _view(
    uow: UnitOfWork,
    request: Consultation,
    me: Mediator,
    d: ConsultationDeps,
    *,
    details: bool = True,
    with_answer: bool = False,
) -> ConsultationView:
    """The request for one person: what they may not see left out."""
    assert request.id is not None and me.id is not None
    parts = _parts(request, me)
    coordinator = Part.COORDINATOR in parts
    exception = request.exception
    ids = {request.requester_id, *(i.person_id for i in request.invitations)}
    if exception is not None:
        ids |= {exception.asked_by} | ({exception.approved_by} if exception.approved_by else set())
    if request.answer is not None:
        ids |= {request.answer.by, *request.answer.attendees}
    people = await uow.mediators.by_ids(sorted(ids))

    def person(pid: int) -> Person:
        found = people.get(pid)
        return Person(pid, found.name if found is not None else "?")

    readable = details and _may_read_request(request, me)
    days: tuple[tuple[date, int], ...] = ()
    candidates: dict[str, tuple[Person, ...]] = {}
    if details and coordinator and request.status in OPEN:
        upcoming = _upcoming(d)
        days = tuple([(day, await uow.consultations.on_day(day)) for day in upcoming])
        if request.status is Status.ON_AGENDA:
            candidates = await _candidates(uow, request, d)
    answer = None
    if with_answer and request.answer is not None and _may_read_answer(request, me):
        a = request.answer
        answer = AnswerView(
            a.kind,
            a.text,
            person(a.by),
            a.at,
            a.meeting_at,
            a.meeting_place,
            tuple(person(i) for i in a.attendees),
        )
    justify = me.id == request.requester_id or coordinator
    return ConsultationView(
        id=request.id,
        code=request.code,
        status=request.status,
        urgent=request.urgent,
        region=request.region,
        categories=tuple(c for c in CATEGORIES if c in request.categories),
        created_at=request.created_at,
        viewer=Person(me.id, me.name),
        parts=parts,
        requester=person(request.requester_id),
        consent_basis=request.consent_basis,
        consent_given_on=request.consent_given_on,
        exception_asked_by=person(exception.asked_by) if exception else None,
        exception_approved_by=(
            person(exception.approved_by) if exception and exception.approved_by else None
        ),
        day=request.day,
        invitations=tuple(
            InvitationLine(person(i.person_id), i.speciality, i.answer) for i in request.invitations
        ),
        question=request.question if readable else None,
        background=request.background if readable else None,
        birth_years=request.birth_years if readable else (),
        justification=exception.justification if exception and justify and details else None,
        days=days,
        capacity=d.days.capacity,
        candidates=candidates,
        answered=request.answer is not None,
        answer_kind=request.answer.kind if request.answer is not None else None,
        answer=answer,
    )


def _upcoming(d: ConsultationDeps) -> list[date]:
    """The consultation days a request may be placed on now: today's until its hours end."""
    local = d.clock.now().astimezone(d.policy.zone)
    return d.days.upcoming(local.date(), local.time())
