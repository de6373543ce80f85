"""The verbs of the family centre's common time: convening, the team's answers, the meeting,
the plan and its follow-up. Personal chat only: a common time is never shown in a channel.

Each handler reads its card data, calls one use case of mediation/services/common_time.py
and answers with the common time's card as the clicker may now see it. A refusal comes
back on that card with what was typed, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot import inputs
from bot.deps import ActionDeps, Card, Click, Handler
from bot.feedback_links import family_link_shown
from bot.personal import personal_only
from cards import verbs
from cards.calendar import calendar_pending
from cards.common_time import (
    common_time_card,
    common_time_list_card,
    competence_label,
    convene_form,
    invited_person,
    step_label,
)
from cards.common_time_feedback import team_feedback_card
from cards.i18n import Lang, error_text, format_date, t
from mediation import errors
from mediation.case_types import Step
from mediation.common_time import (
    COMMON_TIME_KIND,
    COMPETENCES,
    FOLLOW_UP_KIND,
    TEXT_MAX,
    JointPlan,
    Place,
    PlanAction,
)
from mediation.common_time_views import CommonTimeView, TimeOption
from mediation.consent import JUSTIFICATION_MAX
from mediation.policy import within_years
from mediation.services import actor
from mediation.services import common_time as ct_service
from mediation.services.common_time import CommonTimeDeps

MAX_ACTIONS = 6  # action rows on the plan form
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class CommonTimeActions:
    """Handlers of the common time's verbs; each answers with a card and never raises a
    domain error past the router (which shows it on an error card)."""

    def __init__(self, deps: ActionDeps, common: CommonTimeDeps) -> None:
        self.deps = deps
        self.common = common

    def routes(self) -> dict[str, Handler]:
        personal: dict[str, Handler] = {
            verbs.COMMON_TIME_NEW: self.new,
            verbs.COMMON_TIME_CONVENE: self.convene,
            verbs.COMMON_TIME_LIST: self.list_mine,
            verbs.COMMON_TIME_SHOW: self.show,
            verbs.COMMON_TIME_CONSENT: self.consent,
            verbs.COMMON_TIME_APPROVE: self.approve,
            verbs.COMMON_TIME_INVITE: self.invite,
            verbs.COMMON_TIME_WITHDRAW: self.withdraw,
            verbs.COMMON_TIME_ACCEPT: self.accept,
            verbs.COMMON_TIME_DECLINE: self.decline,
            verbs.COMMON_TIME_TIMES: self.times,
            verbs.COMMON_TIME_BOOK: self.book,
            verbs.COMMON_TIME_HELD: self.held,
            verbs.COMMON_TIME_PLAN: self.plan,
            verbs.COMMON_TIME_PLAN_SHOW: self.plan_show,
            verbs.COMMON_TIME_MARK: self.mark,
            verbs.COMMON_TIME_CLOSE: self.close,
            verbs.COMMON_TIME_CANCEL: self.cancel,
            verbs.COMMON_TIME_FEEDBACK: self.feedback,
        }
        return {verb: personal_only(h, self._refused) for verb, h in personal.items()}

    async def _refused(self, click: Click, refused: str) -> Card | None:
        """The common time's card with a refusal on it, for ``personal_only``."""
        if "ct_id" not in click.data:
            return None
        return await self._now(click, refused=refused)

    # -- convening ------------------------------------------------------------------------

    async def new(self, click: Click) -> Card:
        uow = self.deps.uow_factory()
        async with uow:
            await actor(uow, click.actor)  # refuses who is not in the registry
        return convene_form(click.lang)

    async def convene(self, click: Click) -> Card:
        data = click.data
        try:
            consent = frozenset(
                step
                for step, key in (
                    (Step.CONVENE, "consent_convene"),
                    (Step.SHARE_PLAN, "consent_share_plan"),
                )
                if _flag(data, key)
            )
            cmd = ct_service.Convene(
                click.actor,
                inputs.text(data, "municipality", ct_service.MUNICIPALITY_MAX),
                _competences(data),
                consent,
                inputs.text(data, "justification", JUSTIFICATION_MAX),
            )
            view = await ct_service.convene(cmd, self.deps.uow(click), self.common)
        except errors.InvalidInput as exc:
            return convene_form(click.lang, refused=error_text(click.lang, exc), typed=data)
        return self._card(
            view, click.lang, notice=t(click.lang, "commontime.convened", code=view.code)
        )

    async def list_mine(self, click: Click) -> Card:
        return await self.list_card(click.actor, click.lang)

    async def list_card(self, actor_aad: str, lang: Lang) -> Card:
        """The person's common times (also the answer to the typed command)."""
        views = await ct_service.mine(actor_aad, self.deps.uow_factory(), self.common)
        return common_time_list_card(views, lang)

    async def show(self, click: Click) -> Card:
        return await self._now(click)

    async def consent(self, click: Click) -> Card:
        steps = frozenset(
            step
            for step, key in (
                (Step.CONVENE, "consent_convene"),
                (Step.SHARE_PLAN, "consent_share_plan"),
            )
            if _flag(click.data, key)
        )
        changed = await ct_service.record_consent(
            click.actor, _ct_id(click), steps, self.deps.uow(click), self.common
        )
        key = "commontime.consent_saved" if changed else "commontime.unchanged"
        return await self._now(click, notice=t(click.lang, key))

    async def approve(self, click: Click) -> Card:
        step = _step(click.data)
        changed = await ct_service.approve_exception(
            click.actor, _ct_id(click), step, self.deps.uow(click), self.common
        )
        if not changed:
            return await self._now(click, notice=t(click.lang, "commontime.unchanged"))
        label = step_label(click.lang, step)
        return await self._now(click, notice=t(click.lang, "commontime.approved", step=label))

    # -- the team ---------------------------------------------------------------------------

    async def invite(self, click: Click) -> Card:
        competence, chosen = invited_person(click.data)
        person_id = inputs.whole({"person_id": chosen}, "person_id")  # within an id's range
        assert person_id is not None
        name = await ct_service.invite(
            click.actor, _ct_id(click), person_id, competence, self.deps.uow(click), self.common
        )
        return await self._now(click, notice=t(click.lang, "commontime.invited_ok", name=name))

    async def withdraw(self, click: Click) -> Card:
        person_id = inputs.whole(click.data, "person_id")
        assert person_id is not None
        name = await ct_service.withdraw(
            click.actor, _ct_id(click), person_id, self.deps.uow(click), self.common
        )
        return await self._now(click, notice=t(click.lang, "commontime.withdrawn_ok", name=name))

    async def accept(self, click: Click) -> Card:
        return await self._answer(click, accept=True)

    async def decline(self, click: Click) -> Card:
        return await self._answer(click, accept=False)

    async def _answer(self, click: Click, *, accept: bool) -> Card:
        changed = await ct_service.answer(
            click.actor, _ct_id(click), accept, self.deps.uow(click), self.common
        )
        key = "commontime.answered_accepted" if accept else "commontime.answered_declined"
        return await self._now(
            click, notice=t(click.lang, key if changed else "commontime.unchanged")
        )

    # -- the meetings -----------------------------------------------------------------------

    async def times(self, click: Click) -> Card:
        kind = _kind(click.data)
        found = await ct_service.find_times(
            click.actor, _ct_id(click), kind, self.deps.uow_factory(), self.common
        )
        return await self._now(click, times=found, times_kind=kind)

    async def book(self, click: Click) -> Card:
        data = click.data
        ct_id = _ct_id(click)
        cmd = ct_service.BookMeeting(
            click.actor,
            ct_id,
            _kind(data),
            inputs.moment(data, "start"),
            inputs.text(data, "room", ct_service.ROOM_MAX),
        )
        await ct_service.book(cmd, self.deps.uow(click), self.common)
        # After the commit: the calendars are written now, or by the scheduler's next push.
        problem = await ct_service.push_calendar_of(ct_id, self.deps.uow_factory(), self.common)
        local = cmd.start.astimezone(self.deps.policy.zone)
        notice = t(
            click.lang,
            "commontime.booked_ok",
            day=format_date(click.lang, local.date()),
            time=local.strftime("%H:%M"),
            room=cmd.room,
        )
        return await self._now(click, notice=calendar_pending(click.lang, notice, problem))

    async def held(self, click: Click) -> Card:
        responsible = _ids(click.data, "responsible")
        try:
            view = await ct_service.record_held(
                click.actor, _ct_id(click), responsible, self.deps.uow(click), self.common
            )
        except errors.InvalidInput as exc:
            return await self._now(click, refused=error_text(click.lang, exc), typed=click.data)
        return self._card(view, click.lang, notice=t(click.lang, "commontime.held_ok"))

    async def plan(self, click: Click) -> Card:
        try:
            plan = _plan(click.data)
            view = await ct_service.record_plan(
                click.actor, _ct_id(click), plan, self.deps.uow(click), self.common
            )
        except errors.InvalidInput as exc:
            return await self._now(click, refused=error_text(click.lang, exc), typed=click.data)
        return self._card(view, click.lang, notice=t(click.lang, "commontime.plan_saved"))

    async def plan_show(self, click: Click) -> Card:
        view = await ct_service.read_plan(
            click.actor, _ct_id(click), self.deps.uow_factory(), self.common
        )
        return self._card(view, click.lang)

    async def mark(self, click: Click) -> Card:
        index = inputs.whole(click.data, "index", high=MAX_ACTIONS * 4)
        assert index is not None
        done = _yes_or_no(click.data, "done")
        view = await ct_service.mark_action(
            click.actor, _ct_id(click), index, done, self.deps.uow(click), self.common
        )
        return self._card(view, click.lang, notice=t(click.lang, "commontime.marked"))

    async def close(self, click: Click) -> Card:
        await ct_service.close(click.actor, _ct_id(click), self.deps.uow(click), self.common)
        return await self._now(click, notice=t(click.lang, "commontime.closed"))

    async def cancel(self, click: Click) -> Card:
        ct_id = _ct_id(click)
        await ct_service.cancel(click.actor, ct_id, self.deps.uow(click), self.common)
        problem = await ct_service.push_calendar_of(ct_id, self.deps.uow_factory(), self.common)
        notice = calendar_pending(click.lang, t(click.lang, "commontime.cancelled"), problem)
        return await self._now(click, notice=notice)

    # -- feedback -------------------------------------------------------------------------

    async def feedback(self, click: Click) -> Card:
        """An attendee's feedback after the meeting, once; a second answer is refused."""
        ct_id = _ct_id(click)
        try:
            stored = await ct_service.give_feedback(
                click.actor, ct_id, click.data, self.deps.uow(click), self.common
            )
        except errors.InvalidInput as exc:
            form = await ct_service.feedback_form(
                click.actor, ct_id, self.deps.uow_factory(), self.common
            )
            refused = error_text(click.lang, exc)
            return team_feedback_card(form, click.lang, refused=refused, typed=click.data)
        form = await ct_service.feedback_form(
            click.actor, ct_id, self.deps.uow_factory(), self.common
        )
        if not stored:
            refused = t(click.lang, "ctfeedback.already")
            return team_feedback_card(form, click.lang, refused=refused)
        return team_feedback_card(form, click.lang, notice=t(click.lang, "ctfeedback.saved"))

    # -- cards ------------------------------------------------------------------------------

    async def _now(
        self,
        click: Click,
        *,
        notice: str | None = None,
        refused: str | None = None,
        typed: Mapping[str, Any] | None = None,
        times: tuple[TimeOption, ...] | list[TimeOption] = (),
        times_kind: str | None = None,
    ) -> Card:
        view = await ct_service.show(
            click.actor, _ct_id(click), self.deps.uow_factory(), self.common
        )
        return self._card(
            view,
            click.lang,
            notice=notice,
            refused=refused,
            typed=typed,
            times=times,
            times_kind=times_kind,
        )

    def _card(self, view: CommonTimeView, lang: Lang, **extra: Any) -> Card:
        policy = self.deps.policy
        family_link = family_link_shown(view, self.deps.feedback.base_url, policy)
        return common_time_card(view, lang, policy.timezone, family_link=family_link, **extra)


def _ct_id(click: Click) -> int:
    """The common time a button is about; unreadable, it is one that does not exist."""
    try:
        value = inputs.whole(click.data, "ct_id")
    except errors.InvalidInput:
        raise errors.NotFound("no such common time") from None
    assert value is not None
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in _TRUE


def _yes_or_no(data: Mapping[str, Any], key: str) -> bool:
    """A button's true or false: anything else is no answer, not a "no"."""
    value = data.get(key)
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise errors.InvalidInput(key, "unknown choice")


def _choices(data: Mapping[str, Any], key: str, limit: int = 400) -> list[str]:
    """A multi-select's value: comma-separated choices (a list is taken too)."""
    value = data.get(key)
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) < 50:
        return [v.strip() for v in value if v.strip()]
    raw = inputs.text(data, key, limit)
    return [v.strip() for v in raw.split(",") if v.strip()]


def _competences(data: Mapping[str, Any]) -> frozenset[str]:
    chosen = _choices(data, "competences")
    if any(c not in COMPETENCES for c in chosen):
        raise errors.InvalidInput("competences", "unknown choice")
    return frozenset(chosen)


def _ids(data: Mapping[str, Any], key: str) -> list[int]:
    found = []
    for value in _choices(data, key):
        number = inputs.whole({key: value}, key)
        assert number is not None
        found.append(number)
    if len(found) > 10:
        raise errors.InvalidInput(key, "too long")
    return found


def _step(data: Mapping[str, Any]) -> Step:
    try:
        return Step(inputs.text(data, "step", 30))
    except ValueError:
        raise errors.InvalidInput("step", "unknown choice") from None


def _kind(data: Mapping[str, Any]) -> str:
    kind = inputs.text(data, "kind", 30)
    if kind not in (COMMON_TIME_KIND, FOLLOW_UP_KIND):
        raise errors.InvalidInput("kind", "unknown choice")
    return kind


def _plan(data: Mapping[str, Any]) -> JointPlan:
    """The plan form's fields; the rules of mediation/common_time.py check what they hold."""
    actions = []
    for n in range(1, MAX_ACTIONS + 1):  # the form numbers its rows from 1
        what = inputs.text(data, f"action_{n}_what", TEXT_MAX)
        if not what.strip():
            continue
        try:
            place = Place(inputs.text(data, f"action_{n}_place", 30) or Place.HOME.value)
        except ValueError:
            raise errors.InvalidInput(f"action_{n}_place", "unknown choice") from None
        where = inputs.text(data, f"action_{n}_where", TEXT_MAX)
        actions.append(PlanAction(place, what.strip(), where.strip()))
    next_contact = inputs.text(data, "next_contact", 20).strip()
    if not next_contact:
        raise errors.InvalidInput("next_contact", "required")
    try:
        day = date.fromisoformat(next_contact)
    except ValueError:
        raise errors.InvalidInput("next_contact", "not a date") from None
    if not within_years(day):
        raise errors.InvalidInput("next_contact", "not a date")
    return JointPlan(
        matters=inputs.text(data, "matters", TEXT_MAX).strip(),
        actions=tuple(actions),
        follow_up_how=inputs.text(data, "follow_up_how", TEXT_MAX).strip(),
        family_reaches_worker=inputs.text(data, "family_reaches_worker", TEXT_MAX).strip(),
        next_contact=day,
        shared_with=frozenset(_ids(data, "shared_with")),
    )


def note_text(lang: Lang, payload: Mapping[str, Any], view: CommonTimeView, zone: Any) -> str:
    """The line on top of an outbox note's card, from its payload (ids and codes only) and
    the common time as its recipient may see it (for the names it shows them anyway)."""
    note = str(payload.get("note", ""))
    params: dict[str, Any] = {"code": view.code}
    if note in ("accepted", "declined"):
        person = payload.get("person")
        names = [i.person.name for i in view.invitations if i.person.id == person]
        params["name"] = names[-1] if names else "?"
    elif note == "invited":
        params["competence"] = competence_label(lang, str(payload.get("competence", "")))
    elif note == "booked":
        start = datetime.fromisoformat(str(payload["starts_at"])).astimezone(zone)
        params |= {
            "day": format_date(lang, start.date()),
            "time": start.strftime("%H:%M"),
            "room": str(payload.get("room", "")),
        }
    elif note == "follow_up_due":
        params["day"] = format_date(lang, date.fromisoformat(str(payload["day"])))
    elif note == "exception_asked":
        params["step"] = step_label(lang, Step(str(payload.get("step"))))
    return t(lang, f"commontime.note.{note}", **params)
