"""The verbs of walk-in shifts and phone hours: the rota, one shift, swaps, a coordinator's
re-assignment, visits and the figures. Personal chat only.

Each handler reads its card data, calls one use case of mediation/services/walk_in.py and
answers with the card as the clicker may now see it. A refusal comes back on that card, and
nothing changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from bot import inputs
from bot.deps import ActionDeps, Card, Click, Handler
from bot.personal import personal_only
from cards import verbs
from cards.base import plain
from cards.i18n import Lang, format_date, t
from cards.walk_in import figures_card, referral_intake, shift_card, shift_when, shifts_card
from mediation import errors
from mediation.services import walk_in as service
from mediation.services.walk_in import WalkInDeps
from mediation.walk_in import Referral, ShiftKind, VisitKind
from mediation.walk_in_views import ShiftLine, ShiftsView, ShiftView

_Choice = TypeVar("_Choice", VisitKind, Referral)
_TRUE = frozenset({"true", "yes", "on", "1"})


class WalkInActions:
    """Handlers of the shifts' and visits' verbs; each answers with a card."""

    def __init__(self, deps: ActionDeps, walk_in: WalkInDeps) -> None:
        self.deps = deps
        self.walk_in = walk_in

    def routes(self) -> dict[str, Handler]:
        personal: dict[str, Handler] = {
            verbs.SHIFTS_SHOW: self.rota,
            verbs.SHIFTS_FIGURES: self.figures,
            verbs.SHIFT_SHOW: self.show,
            verbs.SHIFT_OFFER: self.offer,
            verbs.SHIFT_ACCEPT: self.accept,
            verbs.SHIFT_DECLINE: self.decline,
            verbs.SHIFT_WITHDRAW: self.withdraw,
            verbs.SHIFT_ASSIGN: self.assign,
            verbs.VISIT_RECORD: self.record,
            verbs.VISIT_REMOVE: self.remove,
        }
        return {verb: personal_only(h, self._refused) for verb, h in personal.items()}

    async def _refused(self, click: Click, refused: str) -> Card:
        """The shift's card (or the rota) with a refusal on it, for ``personal_only``."""
        if "shift_id" in click.data:
            return await self._shift(click, refused=refused, typed=click.data)
        return await self._rota(click.actor, click.lang, refused=refused)

    # -- the rota ---------------------------------------------------------------------------

    async def rota(self, click: Click) -> Card:
        return await self._rota(click.actor, click.lang)

    async def rota_card(self, actor_aad: str, lang: Lang) -> Card:
        """The rota (also the answer to the typed command)."""
        return await self._rota(actor_aad, lang)

    async def show(self, click: Click) -> Card:
        return await self._shift(click)

    async def figures(self, click: Click) -> Card:
        this_year = self.deps.policy.local_date(self.deps.clock.now()).year
        year = inputs.whole(click.data, "year", required=False, low=2000, high=this_year)
        year = year or this_year
        found = await service.figures(click.actor, year, self.deps.uow_factory(), self.walk_in)
        return figures_card(found, click.lang, year)

    # -- swaps ------------------------------------------------------------------------------

    async def offer(self, click: Click) -> Card:
        data = click.data
        to_id = inputs.whole(data, "to_id")
        back = inputs.whole(data, "return_shift_id", required=False)
        assert to_id is not None
        changed = await service.offer(
            click.actor, _shift_id(click), to_id, back, self.deps.uow(click), self.walk_in
        )
        key = "shift.offered_ok" if changed else "shift.unchanged"
        return await self._shift(click, notice=t(click.lang, key))

    async def accept(self, click: Click) -> Card:
        return await self._answer(click, accept=True)

    async def decline(self, click: Click) -> Card:
        return await self._answer(click, accept=False)

    async def _answer(self, click: Click, *, accept: bool) -> Card:
        changed = await service.answer(
            click.actor, _swap_id(click), accept, self.deps.uow(click), self.walk_in
        )
        key = "shift.accepted_ok" if accept else "shift.declined_ok"
        notice = t(click.lang, key if changed else "shift.unchanged")
        return await self._rota(click.actor, click.lang, notice=notice)

    async def withdraw(self, click: Click) -> Card:
        changed = await service.withdraw(
            click.actor, _swap_id(click), self.deps.uow(click), self.walk_in
        )
        key = "shift.withdrawn_ok" if changed else "shift.unchanged"
        return await self._rota(click.actor, click.lang, notice=t(click.lang, key))

    async def assign(self, click: Click) -> Card:
        worker_id = inputs.whole(click.data, "worker_id")
        assert worker_id is not None
        changed = await service.assign(
            click.actor, _shift_id(click), worker_id, self.deps.uow(click), self.walk_in
        )
        key = "shift.assigned_ok" if changed else "shift.unchanged"
        return await self._shift(click, notice=t(click.lang, key))

    # -- visits -----------------------------------------------------------------------------

    async def record(self, click: Click) -> Card:
        data, lang = click.data, click.lang
        form_id = inputs.text(data, "form_id", 64)
        if not form_id:  # the form's id is what keeps a visit sent twice from counting twice
            raise errors.UnmarkedForm()
        cmd = service.RecordVisit(
            click.actor,
            _shift_id(click),
            _choice(data, "kind", VisitKind, "visit_kind"),
            inputs.whole(data, "minutes", low=0, high=10_000) or 0,
            _choice(data, "referral", Referral, "referral"),
            _flag(data, "booked"),
            form_id,
        )
        done = await service.record_visit(cmd, self.deps.uow(click), self.walk_in)
        if not done.new:
            return self._card(done.shift, lang, notice=t(lang, "shift.unchanged"))
        if done.to_intake:
            notice = t(lang, "visit.recorded_intake")
            return stamped(referral_intake(lang, notice, self.deps.policy.areas))
        key = "visit.recorded_referred" if done.coordinators_told else "visit.recorded"
        return self._card(done.shift, lang, notice=t(lang, key))

    async def remove(self, click: Click) -> Card:
        visit_id = inputs.whole(click.data, "visit_id")
        assert visit_id is not None
        changed = await service.remove_visit(
            click.actor, _shift_id(click), visit_id, self.deps.uow(click), self.walk_in
        )
        key = "visit.removed" if changed else "shift.unchanged"
        return await self._shift(click, notice=t(click.lang, key))

    # -- cards ------------------------------------------------------------------------------

    async def _rota(
        self, actor_aad: str, lang: Lang, *, notice: str | None = None, refused: str | None = None
    ) -> Card:
        view = await service.rota(actor_aad, self.deps.uow_factory(), self.walk_in)
        return self.rota_of(view, lang, notice=notice, refused=refused)

    def rota_of(self, view: ShiftsView, lang: Lang, **extra: Any) -> Card:
        return shifts_card(view, lang, self.deps.policy.timezone, **extra)

    async def _shift(
        self,
        click: Click,
        *,
        notice: str | None = None,
        refused: str | None = None,
        typed: Mapping[str, Any] | None = None,
    ) -> Card:
        view = await service.show(
            click.actor, _shift_id(click), self.deps.uow_factory(), self.walk_in
        )
        return self._card(view, click.lang, notice=notice, refused=refused, typed=typed)

    def _card(self, view: ShiftView, lang: Lang, **extra: Any) -> Card:
        typed = extra.pop("typed", None)
        if typed:  # a refused form keeps what was typed, never the used nonce
            typed = {k: v for k, v in typed.items() if k != "form_id"}
        return stamped(shift_card(view, lang, self.deps.policy.timezone, typed=typed, **extra))


def stamped(card: Card) -> Card:
    """Stamp the visit form's and the intake form's buttons with a fresh id, so the same
    form submitted twice is seen (one visit recorded, one case registered)."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("verb") in (verbs.VISIT_RECORD, verbs.CASE_CREATE):
                node["data"] = {**node.get("data", {}), "form_id": uuid.uuid4().hex}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return card


def _shift_id(click: Click) -> int:
    """The shift a button is about; unreadable, it is one that does not exist."""
    try:
        value = inputs.whole(click.data, "shift_id")
    except errors.InvalidInput:
        raise errors.NotFound("no such shift") from None
    assert value is not None
    return value


def _swap_id(click: Click) -> int:
    try:
        value = inputs.whole(click.data, "swap_id")
    except errors.InvalidInput:
        raise errors.NotFound("no such offer") from None
    assert value is not None
    return value


def _choice(data: Mapping[str, Any], key: str, kind: type[_Choice], field: str) -> _Choice:
    try:
        return kind(inputs.text(data, key, 30).strip())
    except ValueError:
        raise errors.InvalidInput(field, "unknown choice") from None


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in _TRUE


def note_text(lang: Lang, payload: Mapping[str, Any], name: str, zone: str) -> str:
    """The line on top of a shift note's card, from its payload (ids and times only);
    ``name`` is who made the offer or the answer, as the registry has them."""
    line = ShiftLine(
        int(payload["shift_id"]),
        ShiftKind(str(payload["kind"])),
        date.min,
        datetime.fromisoformat(str(payload["starts_at"])),
        datetime.fromisoformat(str(payload["ends_at"])),
        None,
        False,
    )
    note = str(payload.get("note", ""))
    return t(lang, f"shift.note.{note}", shift=shift_when(lang, line, zone), name=plain(name))


def referral_text(lang: Lang, payload: Mapping[str, Any], name: str) -> str:
    """The notice on top of the intake form a referral from a walk-in visit sends."""
    day = format_date(lang, date.fromisoformat(str(payload["day"])))
    return t(lang, "visit.note.referred", day=day, name=plain(name))
