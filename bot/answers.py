"""The case card as an answer: as it stands now, or as a change left it, with a notice."""

from __future__ import annotations

import uuid

import cards
from bot import inputs
from bot.deps import ActionDeps, Card, Click
from cards import verbs
from cards.case import OPEN, OPEN_ASSIGN
from cards.i18n import error_text
from mediation import errors, services
from mediation.views import CaseSummary


def with_form_id(card: Card) -> Card:
    """Stamp the intake form's submit action with a fresh id, so a double submit is seen."""
    for action in card.get("actions", []):
        if action.get("verb") == verbs.CASE_CREATE:
            action["data"] = {**action.get("data", {}), "form_id": uuid.uuid4().hex}
    return card


class CaseAnswers:
    """Builds the case card a click is answered with."""

    def __init__(self, deps: ActionDeps) -> None:
        self.deps = deps

    async def now(self, click: Click, notice: str | None = None, error: bool = False) -> Card:
        """The case card as it stands now, for the clicker, with an optional notice on top."""
        deps = self.deps
        summary = await services.case_summary(
            click.actor, inputs.case_id(click.data), deps.uow(click), deps.clock, deps.policy
        )
        return await self.of(click, summary, notice, error=error)

    async def of(
        self, click: Click, summary: CaseSummary, notice: str | None, *, error: bool = False
    ) -> Card:
        """The card of the case as ``summary`` shows it.

        A refused assignment keeps the coordinator's choices: the form comes back open. So
        does a click on "Assign", with the list as the mediators' loads now stand.
        """
        typed: dict[str, object] | None = None
        if error and click.verb == verbs.CASE_ASSIGN:
            typed = dict(click.data)
        elif click.verb == verbs.CARD_REFRESH and click.data.get(OPEN) == OPEN_ASSIGN:
            typed = {}
        if typed is not None and not await self._coordinator(click.actor):
            # The list weighs every mediator's work: it is the coordinators' to see.
            refused = errors.NotAllowed("assigning a seat", "only a coordinator may do this")
            typed, notice, error = None, error_text(click.lang, refused), True
        gateway = self.deps.gateway
        return cards.case_card(
            summary,
            click.lang,
            # Only an open assign list weighs the mediators' loads: read them for it alone.
            mediators=await (
                gateway.mediators_for_cards() if typed is None else gateway.mediators_to_assign()
            ),
            notice=notice,
            notice_is_error=error,
            assign_typed=typed,
            viewer=click.actor,
        )

    async def _coordinator(self, aad: str) -> bool:
        uow = self.deps.uow_factory()
        try:
            async with uow:
                return (await services.actor(uow, aad)).is_coordinator
        except errors.DomainError:  # a stranger, someone not active, a booker
            return False

    async def refusal(self, click: Click, exc: errors.DomainError) -> Card:
        """Why nothing changed: on the case card when there is a case to show, else alone."""
        message = error_text(click.lang, exc)
        # A refusal about an existing case shows that case as it now is, with the reason:
        # as the use case read it when it brings it along, else read again.
        if exc.case is not None:
            return await self.of(click, exc.case, message, error=True)
        showable = not isinstance(
            exc, errors.NotFound | errors.NotInRegistry | errors.NotActive | errors.BookerNotAllowed
        )
        if showable and click.verb != verbs.MEDIATOR_UPDATE and "case_id" in click.data:
            try:
                return await self.now(click, message, error=True)
            except errors.DomainError:
                pass
        return cards.error_card(click.lang, message)
