"""The verbs that live in personal chat only, as the newer case types' actions have them.

A click in a channel is refused before its handler runs. A refusal comes back on the card of
what was clicked (the common time, the request, the shift) when the clicker may see it, with
the reason on top; otherwise it goes on to the router's error card.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.deps import Card, Click, Handler
from cards.i18n import error_text, t
from cards.messages import error_card
from mediation import errors

# Refusals that say the clicker may not see the thing at all: nothing of it is shown.
NOT_SHOWN = (errors.NotFound, errors.NotInRegistry, errors.NotActive, errors.BookerNotAllowed)

ShownAgain = Callable[[Click, str], Awaitable[Card | None]]
"""The clicked thing's card again with a refusal on top; None when the click names none."""


def personal_only(handler: Handler, shown_again: ShownAgain) -> Handler:
    """``handler`` for personal chat only, its refusals shown on the clicked thing's card."""

    async def run(click: Click) -> Card:
        if not click.personal:
            return error_card(click.lang, t(click.lang, "error.personal_data_only"))
        try:
            return await handler(click)
        except errors.DomainError as exc:
            if isinstance(exc, NOT_SHOWN):
                raise
            try:
                card = await shown_again(click, error_text(click.lang, exc))
            except errors.DomainError:
                raise exc from None
            if card is None:
                raise
            return card

    return run
