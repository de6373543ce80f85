"""The verbs of consultation requests to the expert team: sending one (also urgently), the
exception's approval, the day's agenda, the experts' answers, the team's answer and its
reading, the figures. Personal chat only: a request is never shown in a channel.

Each handler reads its card data, calls one use case of mediation/services/consultations.py
and answers with the request's card as the clicker may now see it. A refusal comes back on
that card (or the form) with what was typed, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from bot import inputs
from bot.deps import ActionDeps, Card, Click, Handler
from bot.personal import NOT_SHOWN, personal_only
from cards import verbs
from cards.calendar import calendar_pending
from cards.consultations import (
    MEETING_TIMES,
    asked_expert,
    consultation_card,
    consultation_list_card,
    figures_card,
    meeting_moment,
    request_form,
    speciality_label,
)
from cards.i18n import Lang, error_text, format_date, t
from mediation import errors
from mediation.consent import JUSTIFICATION_MAX
from mediation.consultation import (
    CATEGORIES,
    MAX_CHILDREN,
    REGION_MAX,
    TEXT_MAX,
    AnswerKind,
)
from mediation.consultation_views import ConsultationView
from mediation.services import actor
from mediation.services import consultations as service
from mediation.services.consultations import ConsultationDeps

_TRUE = frozenset({"true", "yes", "on", "1"})


class ConsultationActions:
    """Handlers of the consultation verbs; each answers with a card and never raises a
    domain error past the router (which shows it on an error card)."""

    def __init__(self, deps: ActionDeps, consult: ConsultationDeps) -> None:
        self.deps = deps
        self.consult = consult

    def routes(self) -> dict[str, Handler]:
        personal: dict[str, Handler] = {
            verbs.CONSULT_NEW: self.new,
            verbs.CONSULT_SEND: self.send,
            verbs.CONSULT_LIST: self.list_mine,
            verbs.CONSULT_SHOW: self.show,
            verbs.CONSULT_APPROVE: self.approve,
            verbs.CONSULT_PLACE: self.place,
            verbs.CONSULT_ASK: self.ask,
            verbs.CONSULT_ACCEPT: self.accept,
            verbs.CONSULT_DECLINE: self.decline,
            verbs.CONSULT_ANSWER: self.answer,
            verbs.CONSULT_ANSWER_SHOW: self.answer_show,
            verbs.CONSULT_WITHDRAW: self.withdraw,
            verbs.CONSULT_FIGURES: self.figures,
        }
        return {verb: personal_only(h, self._refused) for verb, h in personal.items()}

    async def _refused(self, click: Click, refused: str) -> Card | None:
        """The request's card with a refusal on it, for ``personal_only``; its showing was
        journaled already."""
        if "c_id" not in click.data:
            return None
        return await self._now(click, refused=refused, journal=False)

    # -- sending --------------------------------------------------------------------------

    async def new(self, click: Click) -> Card:
        uow = self.deps.uow_factory()
        async with uow:
            await actor(uow, click.actor)  # refuses who is not in the registry
        return request_form(click.lang, self.deps.policy.areas, urgent=_flag(click.data, "urgent"))

    async def send(self, click: Click) -> Card:
        data = click.data
        urgent = _flag(data, "urgent")
        try:
            consented = _flag(data, "consent")
            cmd = service.SendRequest(
                click.actor,
                region=inputs.text(data, "region", REGION_MAX).strip(),
                categories=frozenset(_choices(data, "categories")),
                question=inputs.text(data, "question", TEXT_MAX),
                urgent=urgent,
                background="" if urgent else inputs.text(data, "background", TEXT_MAX),
                birth_years=() if urgent else _years(data),
                consent_given_on=_day(data, "consent_date") if consented else None,
                justification=""
                if consented
                else inputs.text(data, "justification", JUSTIFICATION_MAX),
            )
            view = await service.send(cmd, self.deps.uow(click), self.consult)
        except errors.DomainError as exc:
            if isinstance(exc, NOT_SHOWN):
                raise
            refused = error_text(click.lang, exc)
            areas = self.deps.policy.areas
            return request_form(click.lang, areas, urgent=urgent, refused=refused, typed=data)
        key = "consult.sent_urgent" if view.urgent else "consult.sent"
        return self._card(view, click.lang, notice=t(click.lang, key, code=view.code))

    async def list_mine(self, click: Click) -> Card:
        return await self.list_card(click.actor, click.lang)

    async def list_card(self, actor_aad: str, lang: Lang) -> Card:
        """The person's requests; a coordinator's queue and agendas (also the typed command)."""
        listing = await service.listing(actor_aad, self.deps.uow_factory(), self.consult)
        return consultation_list_card(listing, lang)

    async def show(self, click: Click) -> Card:
        return await self._now(click)

    async def approve(self, click: Click) -> Card:
        changed = await service.approve_exception(
            click.actor, _c_id(click), self.deps.uow(click), self.consult
        )
        key = "consult.approved" if changed else "consult.unchanged"
        return await self._now(click, notice=t(click.lang, key))

    async def withdraw(self, click: Click) -> Card:
        await service.withdraw(click.actor, _c_id(click), self.deps.uow(click), self.consult)
        return await self._now(click, notice=t(click.lang, "consult.withdrawn_ok"))

    # -- the agenda and the experts ---------------------------------------------------------

    async def place(self, click: Click) -> Card:
        day = _day(click.data, "day")
        changed = await service.place(
            click.actor, _c_id(click), day, self.deps.uow(click), self.consult
        )
        if not changed:
            return await self._now(click, notice=t(click.lang, "consult.unchanged"))
        notice = t(click.lang, "consult.placed", day=format_date(click.lang, day))
        return await self._now(click, notice=notice)

    async def ask(self, click: Click) -> Card:
        speciality, chosen = asked_expert(click.data)
        person_id = inputs.whole({"person_id": chosen}, "person_id")
        assert person_id is not None
        name = await service.ask(
            click.actor, _c_id(click), person_id, speciality, self.deps.uow(click), self.consult
        )
        return await self._now(click, notice=t(click.lang, "consult.asked_ok", name=name))

    async def accept(self, click: Click) -> Card:
        return await self._reply(click, accept=True)

    async def decline(self, click: Click) -> Card:
        return await self._reply(click, accept=False)

    async def _reply(self, click: Click, *, accept: bool) -> Card:
        changed = await service.reply(
            click.actor, _c_id(click), accept, self.deps.uow(click), self.consult
        )
        key = "consult.replied_accepted" if accept else "consult.replied_declined"
        return await self._now(click, notice=t(click.lang, key if changed else "consult.unchanged"))

    # -- the answer -----------------------------------------------------------------------

    async def answer(self, click: Click) -> Card:
        data = click.data
        try:
            kind = _answer_kind(data)
            meeting_at = None
            attendees: tuple[int, ...] = ()
            if kind is AnswerKind.CLIENT_MEETING:
                clock = inputs.text(data, "meeting_time", 5).strip()
                if clock not in MEETING_TIMES:
                    raise errors.InvalidInput("meeting_time", "unknown choice")
                zone = self.deps.policy.timezone
                meeting_at = meeting_moment(_day(data, "meeting_day"), clock, zone)
                attendees = tuple(_ids(data, "attendees"))
            cmd = service.GiveAnswer(
                click.actor,
                _c_id(click),
                kind,
                inputs.text(data, "answer", TEXT_MAX),
                meeting_at,
                inputs.text(data, "meeting_place", REGION_MAX) if meeting_at else "",
                attendees,
            )
            view = await service.answer(cmd, self.deps.uow(click), self.consult)
        except errors.InvalidInput as exc:
            refused = error_text(click.lang, exc)
            return await self._now(click, refused=refused, typed=data, journal=False)
        # After the commit: the client meeting goes into the calendar now, or with the
        # scheduler's next push.
        problem = await service.push_calendar_of(view.id, self.deps.uow_factory(), self.consult)
        notice = calendar_pending(click.lang, t(click.lang, "consult.answered_ok"), problem)
        return self._card(view, click.lang, notice=notice)

    async def answer_show(self, click: Click) -> Card:
        view = await service.show(
            click.actor, _c_id(click), self.deps.uow_factory(), self.consult, with_answer=True
        )
        return self._card(view, click.lang)

    async def figures(self, click: Click) -> Card:
        this_year = self.deps.policy.local_date(self.deps.clock.now()).year
        year = inputs.whole(click.data, "year", required=False, low=2000, high=2100)
        found = await service.figures(
            click.actor, year or this_year, self.deps.uow_factory(), self.deps.policy
        )
        return figures_card(found, click.lang)

    # -- cards ------------------------------------------------------------------------------

    async def _now(
        self,
        click: Click,
        *,
        notice: str | None = None,
        refused: str | None = None,
        typed: Mapping[str, Any] | None = None,
        journal: bool = True,
    ) -> Card:
        view = await service.show(
            click.actor, _c_id(click), self.deps.uow_factory(), self.consult, journal=journal
        )
        return self._card(view, click.lang, notice=notice, refused=refused, typed=typed)

    def _card(self, view: ConsultationView, lang: Lang, **extra: Any) -> Card:
        return consultation_card(view, lang, self.deps.policy.timezone, **extra)


def _c_id(click: Click) -> int:
    """The request a button is about; unreadable, it is one that does not exist."""
    try:
        value = inputs.whole(click.data, "c_id")
    except errors.InvalidInput:
        raise errors.NotFound("no such consultation") from None
    assert value is not None
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in _TRUE


def _choices(data: Mapping[str, Any], key: str) -> list[str]:
    """A multi-select's value: comma-separated choices (a list is taken too)."""
    value = data.get(key)
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) < 50:
        chosen = [v.strip() for v in value if v.strip()]
    else:
        chosen = [v.strip() for v in inputs.text(data, key, 400).split(",") if v.strip()]
    if key == "categories" and any(c not in CATEGORIES for c in chosen):
        raise errors.InvalidInput(key, "unknown choice")
    return chosen


def _ids(data: Mapping[str, Any], key: str) -> list[int]:
    found = []
    for value in _choices(data, key):
        number = inputs.whole({key: value}, key)
        assert number is not None
        found.append(number)
    if len(found) > 10:
        raise errors.InvalidInput(key, "too long")
    return found


def _years(data: Mapping[str, Any]) -> tuple[int, ...]:
    """'2014, 2017' -> (2014, 2017); four digits each (the rules check the range)."""
    raw = inputs.text(data, "birth_years", 60).replace(";", ",").replace(" ", ",")
    years = [y for y in raw.split(",") if y]
    if len(years) > MAX_CHILDREN:
        raise errors.InvalidInput("birth_years", "too many children for one form")
    if any(not (y.isascii() and y.isdigit() and len(y) == 4) for y in years):
        raise errors.InvalidInput("birth_years", "birth years are four digits")
    return tuple(int(y) for y in years)


def _day(data: Mapping[str, Any], key: str) -> date:
    text = inputs.text(data, key, 20).strip()
    if not text:
        raise errors.InvalidInput(key, "required")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise errors.InvalidInput(key, "not a date") from None
    if not inputs.FIRST_YEAR <= day.year <= inputs.LAST_YEAR:
        raise errors.InvalidInput(key, "not a date")
    return day


def _answer_kind(data: Mapping[str, Any]) -> AnswerKind:
    try:
        return AnswerKind(inputs.text(data, "answer_kind", 30).strip())
    except ValueError:
        raise errors.InvalidInput("answer_kind", "unknown choice") from None


def note_text(lang: Lang, payload: Mapping[str, Any], view: ConsultationView) -> str:
    """The line on top of an outbox note's card, from its payload (ids and codes only) and
    the request as its recipient may see it (for the names it shows them anyway)."""
    note = str(payload.get("note", ""))
    params: dict[str, Any] = {"code": view.code}
    if note in ("accepted", "declined"):
        person = payload.get("person")
        names = [i.person.name for i in view.invitations if i.person.id == person]
        params["name"] = names[-1] if names else "?"
    elif note == "asked":
        params["speciality"] = speciality_label(lang, str(payload.get("speciality", "")))
    elif note == "placed":
        params["day"] = format_date(lang, date.fromisoformat(str(payload["day"])))
    return t(lang, f"consult.note.{note}", **params)
