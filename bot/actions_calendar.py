"""Meetings in Teams: the calendar verbs, the pair's notes about calendar changes, the feed.

The rules are in ``mediation.calendar``; this module reads card data, calls the use cases and
answers with ``cards.calendar`` cards. ``open_calendar`` builds the calendar adapter chosen
by SOPU_CALENDAR (local or Microsoft Graph) for the app.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot import inputs
from bot.actions import Actions, Card, Click, _case_id, _int, _text
from cards import calendar as calendar_cards
from cards import verbs
from cards.i18n import Lang, error_text, t
from graph.holidays import finnish_closed_days
from graph.local import LocalCalendar, render_ics
from mediation import calendar as cal
from mediation import errors, services
from mediation.model import MeetingKind, MeetingStatus
from mediation.ports import Clock, Notifier, UnitOfWork
from storage.calendar import FeedStore, LocalEventStore, SqlEventLinks, SqlMeetingFinder

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.teams import TeamsGateway

log = logging.getLogger(__name__)

FEED_PAST = timedelta(days=90)
# Teams redelivers a click for up to about 15 s: within this, a second rotation keeps the
# address the first answer showed.
FEED_ROTATION_GRACE = timedelta(seconds=30)
# Graph's validation tokens are far shorter; anything longer is not Graph.
MAX_VALIDATION_TOKEN = 1024


class CatalogWording:
    """Event texts from the catalogs, in one language."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def subject(self, code: str, kind: MeetingKind, parent_no: int | None) -> str:
        kind_text = calendar_cards.kind_label(self.lang, kind, parent_no)
        return t(self.lang, "calendar.event.subject", code=code, kind=kind_text)

    def body(self, code: str) -> str:
        return t(self.lang, "calendar.event.body", code=code)

    def cancel_comment(self, code: str) -> str:
        return t(self.lang, "calendar.event.cancel", code=code)


class TeamsMeetingNotifier:
    """Tells both mediators in personal chat that a meeting changed in their calendar."""

    def __init__(self, gateway: TeamsGateway, uow_factory: Callable[[], UnitOfWork], zone: str):
        self.gateway = gateway
        self.uow_factory = uow_factory
        self.zone = zone

    async def meeting_changed(self, change: cal.MeetingChanged) -> None:
        from bot.teams import DeliveryFailed

        uow = self.uow_factory()
        async with uow:
            people = await uow.mediators.by_ids(list(change.mediator_ids))
        for person in people.values():
            try:
                await self.gateway.send_personal(
                    person.aad_object_id,
                    lambda lang: calendar_cards.meeting_changed_card(change, lang, self.zone),
                )
            except DeliveryFailed:
                log.warning("case %s: a mediator was not told of a calendar change", change.code)


@dataclass
class CalendarService:
    """The calendar feature as one running Sopu holds it."""

    deps: cal.CalendarDeps
    mode: str
    base_url: str
    links: SqlEventLinks
    finder: SqlMeetingFinder
    meeting_notifier: cal.MeetingNotifier
    feeds: FeedStore | None = None
    events: LocalEventStore | None = None
    sync: Any = None  # graph.sync.GraphSync in graph mode
    graph_tasks: dict[str, Callable[[], Awaitable[object]]] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def in_lang(self, lang: Lang) -> cal.CalendarDeps:
        return dataclasses.replace(self.deps, wording=CatalogWording(lang))

    async def feed_url(self, mediator_id: int | None) -> str | None:
        if self.feeds is None or mediator_id is None:
            return None
        token = await self.feeds.token_of(mediator_id)
        return f"{self.base_url}/calendar/{token}.ics"

    async def new_feed_url(self, mediator_id: int) -> str | None:
        """A new secret address for the mediator's feed; the old one answers no more."""
        if self.feeds is None:
            return None
        token = await self.feeds.rotate(mediator_id, keep_for=FEED_ROTATION_GRACE)
        return f"{self.base_url}/calendar/{token}.ics"

    async def forget_feed(self, mediator_id: int) -> None:
        if self.feeds is not None:
            await self.feeds.forget(mediator_id)

    async def close(self) -> None:
        for close in reversed(self.closers):
            try:
                await close()
            except Exception:
                log.exception("closing the calendar failed")


CALENDAR = web.AppKey("calendar", CalendarService)
# Tests hand in a Graph credential here before the app starts (no Entra ID offline).
GRAPH_CREDENTIAL = web.AppKey("graph_credential", object)


def meeting_policy(settings: Settings) -> cal.MeetingPolicy:
    c = settings.calendar
    return cal.MeetingPolicy(follow_up_weeks=c.follow_up_weeks, working_hours=c.working_hours)


async def open_calendar(
    app: web.Application,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    gateway: TeamsGateway,
    notifier: Notifier,
    uow_factory: Callable[[], UnitOfWork],
) -> CalendarService:
    """The calendar adapter of SOPU_CALENDAR, with its stores; close it at shutdown."""
    mp = meeting_policy(settings)
    links = SqlEventLinks(sessions, clock)
    base_url = getattr(settings, "public_url", "") or f"http://{settings.host}:{settings.port}"
    feeds = events = None
    closers: list[Callable[[], Awaitable[None]]] = []
    sync = None
    graph_tasks: dict[str, Callable[[], Awaitable[object]]] = {}
    meeting_notifier = TeamsMeetingNotifier(gateway, uow_factory, settings.policy.timezone)
    calendar: cal.Calendar
    if settings.calendar.mode == "graph":
        from graph.msgraph import GraphCalendar, credential_from
        from graph.sync import GraphSync
        from storage.calendar import SyncStore

        credential = app.get(GRAPH_CREDENTIAL) or credential_from(settings.calendar)
        graph = GraphCalendar.create(credential, settings.calendar.base_url, mp.working_hours)
        closers.append(graph.close)
        calendar = graph
        sync = GraphSync(
            graph,
            SyncStore(sessions, clock),
            links,
            uow_factory,
            meeting_notifier,
            notifier,
            clock,
            f"{base_url}/api/graph/notifications",
        )
        closers.append(sync.close)
        graph_tasks = {"sopu.graph_renew": sync.renew_all, "sopu.graph_delta": sync.delta_all}
    else:
        events = LocalEventStore(sessions, clock)
        feeds = FeedStore(sessions, clock)
        calendar = LocalCalendar(events, mp.working_hours)
    deps = cal.CalendarDeps(
        calendar=calendar,
        links=links,
        notifier=notifier,
        clock=clock,
        policy=settings.policy,
        meetings=mp,
        wording=CatalogWording("fi"),
        closed_days=finnish_closed_days,
    )
    service = CalendarService(
        deps,
        settings.calendar.mode,
        base_url,
        links,
        SqlMeetingFinder(sessions),
        meeting_notifier,
        feeds,
        events,
        sync,
        graph_tasks,
        closers,
    )
    app[CALENDAR] = service
    return service


# -- card data ---------------------------------------------------------------------------------


def _kind(data: Mapping[str, Any]) -> MeetingKind | None:
    value = data.get("kind")
    if value in (None, ""):
        return None
    try:
        return MeetingKind(str(value))
    except ValueError:
        raise errors.InvalidInput("kind", "unknown choice") from None


def _start(data: Mapping[str, Any]) -> datetime:
    return inputs.moment(data, "start")


def _minutes(data: Mapping[str, Any], high: int) -> int | None:
    value = data.get("minutes")
    if value in (None, ""):
        return None
    number = inputs.number(value)
    if number is None or number != int(number) or not 0 <= number <= high:
        raise cal.MinutesOutOfRange(high)
    return int(number)


def _held(data: Mapping[str, Any]) -> bool:
    value = data.get("held")
    if value in (None, ""):
        raise errors.InvalidInput("held", "required")
    if value not in ("yes", "no"):
        raise errors.InvalidInput("held", "unknown choice")
    return value == "yes"


def feedback_section(lang: Lang, meeting_id: int) -> list[dict[str, Any]]:
    """The feedback feature's inputs for the record card, when that feature is installed."""
    try:
        module = importlib.import_module("cards.feedback")
    except ImportError:
        return []
    build = getattr(module, "meeting_feedback_section", None)
    return list(build(lang, meeting_id)) if callable(build) else []


# -- the verbs ---------------------------------------------------------------------------------


class CalendarActions:
    """The handlers of the meeting verbs; each answers with a card and never raises."""

    def __init__(self, actions: Actions) -> None:
        self.a = actions
        self.d = actions.d

    @property
    def svc(self) -> CalendarService:
        service: CalendarService | None = getattr(self.d, "calendar", None)
        if service is None:
            raise RuntimeError("the calendar is not set up")
        return service

    def routes(self) -> dict[str, Callable[[Click], Awaitable[Card]]]:
        return {
            verbs.MEETINGS_PROPOSE: self._guarded(self.propose),
            verbs.MEETINGS_BOOK: self._guarded(self.book),
            verbs.MEETING_MOVE: self._guarded(self.move),
            verbs.MEETING_CANCEL: self._guarded(self.cancel),
            verbs.MEETING_RECORD: self._guarded(self.record),
            verbs.MEETINGS_FEED_ROTATE: self._guarded(self.rotate_feed),
        }

    def _guarded(
        self, handler: Callable[[Click], Awaitable[Card]]
    ) -> Callable[[Click], Awaitable[Card]]:
        async def run(click: Click) -> Card:
            try:
                return await handler(click)
            except errors.DomainError as exc:
                return await self._refusal(click, exc)

        return run

    async def _refusal(self, click: Click, exc: errors.DomainError) -> Card:
        """The refusal on the package card when the case can be shown, else on its own."""
        message = error_text(click.lang, exc)
        if click.verb == verbs.MEETING_RECORD and not isinstance(exc, errors.NotFound):
            with contextlib.suppress(errors.DomainError):
                return await self._record_form(click, message, error=True)
        if not isinstance(exc, errors.NotFound | errors.NotInRegistry | cal.MeetingsPairOnly):
            with contextlib.suppress(errors.DomainError):
                return await self._package(click, message, error=True)
        return cards.error_card(click.lang, message)

    def _case_id(self, click: Click) -> int:
        return _case_id(click.data)

    def _meeting_id(self, click: Click, *, required: bool = True) -> int | None:
        try:
            return _int(click.data, "meeting_id", required=required)
        except errors.InvalidInput:
            raise cal.MeetingNotFound(str(click.data.get("meeting_id"))[:20]) from None

    async def _mediator_id(self, aad: str) -> int | None:
        uow = self.d.uow_factory()
        async with uow:
            me = await uow.mediators.by_aad(aad)
        return me.id if me else None

    async def _package(self, click: Click, notice: str | None, error: bool = False) -> Card:
        svc = self.svc
        proposal = await self._proposal(click, search=False)
        return calendar_cards.meetings_card(
            proposal, click.lang, now=svc.deps.clock.now(), notice=notice, notice_is_error=error
        )

    async def _proposal(self, click: Click, *, search: bool = True) -> cal.Proposal:
        svc = self.svc
        meeting_id = self._meeting_id(click, required=False) if search else None
        return await cal.propose_times(
            cal.ProposeTimes(
                click.actor,
                self._case_id(click),
                kind=_kind(click.data) if search else None,
                parent_no=_int(click.data, "parent_no", required=False) if search else None,
                meeting_id=meeting_id,
                search=search,
            ),
            self.d.uow_factory(),
            svc.deps.calendar,
            svc.links,
            svc.deps.clock,
            svc.deps.policy,
            svc.deps.meetings,
            svc.deps.closed_days,
        )

    def _when(self, view: cal.MeetingView, lang: Lang) -> dict[str, str]:
        zone = self.svc.deps.policy.timezone
        return {
            "kind": calendar_cards.kind_label(lang, view.kind, view.parent_no),
            "when": calendar_cards.when_label(lang, view.starts_at, view.ends_at, zone),
        }

    async def _answer(self, click: Click, result: cal.MeetingResult, key: str) -> Card:
        notice = t(click.lang, key, **self._when(result.meeting, click.lang))
        error = False
        if result.calendar_error is not None:
            reason = error_text(click.lang, result.calendar_error)
            notice = f"{notice}\n\n{t(click.lang, 'calendar.notice.pending', reason=reason)}"
            error = True
        return await self._package(click, notice, error)

    # -- handlers --------------------------------------------------------------------------

    async def propose(self, click: Click) -> Card:
        """Times for the next meeting (or for moving one), with the package so far."""
        if click.data.get("package"):  # a redelivered click: only the package as it stands
            return await self._package(click, t(click.lang, "notice.unchanged"))
        proposal = await self._proposal(click)
        feed = await self.svc.feed_url(await self._mediator_id(click.actor))
        return calendar_cards.proposal_card(
            proposal, click.lang, now=self.svc.deps.clock.now(), feed_url=feed
        )

    async def book(self, click: Click) -> Card:
        """Book the chosen time; with a meeting id only, push a change the calendar missed."""
        meeting_id = self._meeting_id(click, required=False)
        uow, deps = self.d.uow_factory(), self.svc.in_lang(click.lang)
        if meeting_id is not None and "start" not in click.data:
            await cal.retry_meeting(
                cal.RetryMeeting(click.actor, meeting_id, self._case_id(click)), uow, deps
            )
            return await self._package(click, t(click.lang, "calendar.notice.pushed"))
        kind = _kind(click.data)
        if kind is None:
            raise errors.InvalidInput("kind", "required")
        cmd = cal.BookMeeting(
            click.actor,
            self._case_id(click),
            kind,
            _start(click.data),
            _int(click.data, "parent_no", required=False),
        )
        result = await cal.book_meeting(cmd, uow, deps)
        key = "calendar.notice.booked" if result.changed else "calendar.notice.already_booked"
        return await self._answer(click, result, key)

    async def move(self, click: Click) -> Card:
        """Move a booked meeting to the chosen time; the calendar event is patched."""
        meeting_id = self._meeting_id(click)
        assert meeting_id is not None
        cmd = cal.MoveMeeting(click.actor, meeting_id, self._case_id(click), _start(click.data))
        result = await cal.move_meeting(cmd, self.d.uow_factory(), self.svc.in_lang(click.lang))
        if not result.changed and result.calendar_error is None:
            return await self._package(click, t(click.lang, "notice.unchanged"))
        return await self._answer(click, result, "calendar.notice.moved")

    async def cancel(self, click: Click) -> Card:
        """Cancel a booked meeting, with an optional message to the attendees."""
        meeting_id = self._meeting_id(click)
        assert meeting_id is not None
        message = _text(click.data, "message", limit=calendar_cards.MESSAGE_MAX).strip()
        cmd = cal.CancelMeeting(click.actor, meeting_id, self._case_id(click), message)
        result = await cal.cancel_meeting(cmd, self.d.uow_factory(), self.svc.in_lang(click.lang))
        if not result.changed and result.calendar_error is None:
            return await self._package(click, t(click.lang, "notice.unchanged"))
        return await self._answer(click, result, "calendar.notice.cancelled")

    async def rotate_feed(self, click: Click) -> Card:
        """The clicker's feed gets a new secret address, shown on the package card."""
        uow = self.d.uow_factory()
        async with uow:
            me = await services.actor(uow, click.actor)  # or the registry's refusal
        assert me.id is not None
        url = await self.svc.new_feed_url(me.id)
        if url is None:
            return cards.error_card(click.lang, t(click.lang, "error.unknown_action"))
        return await self._package(click, t(click.lang, "calendar.feed.rotated", url=url))

    async def _record_form(self, click: Click, notice: str | None, error: bool = False) -> Card:
        meeting_id = self._meeting_id(click)
        assert meeting_id is not None
        svc = self.svc
        view = await cal.meeting_view(
            click.actor,
            meeting_id,
            self._case_id(click),
            self.d.uow_factory(),
            svc.links,
            svc.deps.meetings,
        )
        return calendar_cards.record_card(
            view,
            click.lang,
            svc.deps.policy.timezone,
            extra=feedback_section(click.lang, meeting_id),
            notice=notice,
            notice_is_error=error,
        )

    async def record(self, click: Click) -> Card:
        """Record a meeting as held (with its duration) or not held; the form without data."""
        if click.data.get("form"):
            return await self._record_form(click, None)
        meeting_id = self._meeting_id(click)
        assert meeting_id is not None
        svc = self.svc
        mp = svc.deps.meetings
        cmd = cal.RecordMeeting(
            click.actor,
            meeting_id,
            self._case_id(click),
            _held(click.data),
            _minutes(click.data, mp.max_held_minutes),
        )
        result = await cal.record_meeting(cmd, self.d.uow_factory(), svc.links, svc.deps.clock, mp)
        view = result.meeting
        kind = calendar_cards.kind_label(click.lang, view.kind, view.parent_no)
        if view.status is MeetingStatus.HELD:
            notice = t(
                click.lang, "calendar.notice.recorded_held", kind=kind, minutes=view.held_minutes
            )
        else:
            notice = t(click.lang, "calendar.notice.recorded_not_held", kind=kind)
        problem = await self._feedback(click, meeting_id)
        if problem:
            failed = t(click.lang, "calendar.notice.feedback_failed", reason=problem)
            notice = f"{notice}\n\n{failed}"
        return await self._record_form(click, notice, error=bool(problem))

    async def _feedback(self, click: Click, meeting_id: int) -> str | None:
        """Hand the card's feedback inputs (fb_*) to the feedback feature, if it is there."""
        fields = {k: v for k, v in click.data.items() if k.startswith("fb_")}
        if not any(v not in (None, "") for v in fields.values()):
            return None  # the feedback part was left empty: recording alone is fine
        try:
            module = importlib.import_module("mediation.feedback")
        except ImportError:
            return None
        record = getattr(module, "record_meeting_feedback", None)
        store = getattr(getattr(self.d, "feedback", None), "store", None)
        if record is None or store is None:
            return None
        try:
            await record(click.actor, meeting_id, fields, self.d.uow_factory(), store, self.d.clock)
        except errors.DomainError as exc:
            return error_text(click.lang, exc)
        return None


MEETING_VERBS = frozenset(
    {verbs.MEETINGS_BOOK, verbs.MEETING_MOVE, verbs.MEETING_CANCEL, verbs.MEETING_RECORD}
)


def as_seen_again(click: Click) -> Click:
    """A meeting click Teams delivered twice: show the package as it stands, change nothing."""
    return dataclasses.replace(
        click,
        verb=verbs.MEETINGS_PROPOSE,
        data={"case_id": click.data.get("case_id"), "package": 1},
    )


def calendar_routes(actions: Actions) -> dict[str, Callable[[Click], Awaitable[Card]]]:
    """The meeting verbs for ``bot.actions.Actions.routes``."""
    return CalendarActions(actions).routes()


# -- HTTP: the .ics feed and Graph's notifications ------------------------------------------------


async def ics_feed(request: web.Request) -> web.Response:
    """A mediator's private calendar feed (local calendar): /calendar/{token}.ics."""
    service = request.app.get(CALENDAR)
    token = request.match_info["token"]
    if service is None or service.feeds is None or service.events is None or len(token) > 64:
        raise web.HTTPNotFound()
    mediator_id = await service.feeds.mediator_of(token)
    if mediator_id is None:
        raise web.HTTPNotFound()
    from bot.app import SOPU

    uow = request.app[SOPU].uow()
    async with uow:
        mediator = await uow.mediators.get(mediator_id)
    if mediator is None or not mediator.active:
        # A mediator who left the registry keeps no feed: were they made active again,
        # the old address must not come back with them.
        await service.feeds.forget(mediator_id)
        raise web.HTTPNotFound()
    now = service.deps.clock.now()
    events = await service.events.of_mailbox(mediator.email, now - FEED_PAST)
    body = render_ics(events, "Sopu", now)
    return web.Response(
        body=body.encode("utf-8"),
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


async def graph_notifications(request: web.Request) -> web.Response:
    """Graph's change and lifecycle notifications: the validation handshake, then 202."""
    token = request.query.get("validationToken")
    if token is not None:
        # Graph waits at most 10 s for its token back, as plain text. The echo is text a
        # caller chose: nosniff keeps a browser from reading it as HTML or script.
        headers = {"X-Content-Type-Options": "nosniff"}
        if len(token) > MAX_VALIDATION_TOKEN:
            return web.Response(status=400, headers=headers)
        return web.Response(text=token, content_type="text/plain", headers=headers)
    service = request.app.get(CALENDAR)
    if service is None or service.sync is None:
        raise web.HTTPNotFound()
    try:
        payload = inputs.read_json(await request.read())
    except inputs.NotJson:
        raise web.HTTPBadRequest() from None
    accepted = await service.sync.accept(payload)
    return web.Response(status=202 if accepted else 400)


def add_calendar_routes(app: web.Application) -> None:
    app.router.add_get("/calendar/{token}.ics", ics_feed)
    app.router.add_post("/api/graph/notifications", graph_notifications)


def unrecorded_meetings(
    app: web.Application,
) -> Callable[[], Awaitable[Sequence[cal.UnrecordedMeeting]]]:
    """For the scheduler: the meetings that ended and are not recorded yet."""
    service = app[CALENDAR]
    return lambda: cal.meetings_to_record(service.finder, service.deps.clock)
