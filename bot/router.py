"""The verb router: each card action verb maps to one handler and one answer card.

A click never raises out of here: a refusal becomes the refreshed case card that says why
(or an error card when there is no case to show), in the clicker's language, and nothing
changes. The one exception is ``Duplicate``: another delivery of the same click made its
change, and the endpoint answers that delivery as a redelivery (storage/redelivery.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import cards
from bot import inputs
from bot.answers import CaseAnswers
from bot.deps import Card, Click, Handler
from bot.languages import Languages
from cards import verbs
from cards.i18n import t
from mediation import errors
from storage.redelivery import Duplicate

log = logging.getLogger(__name__)

# A button of these verbs is about one case: without a readable case id it is refused
# before its handler runs.
CASE_VERBS = frozenset(
    {
        verbs.CASE_CLAIM,
        verbs.CASE_RELEASE,
        verbs.CASE_DETAILS,
        verbs.CASE_ASSIGN,
        verbs.CASE_CLOSE,
        verbs.CASE_CANCEL,
        verbs.CARD_REFRESH,
        verbs.CASE_CLEAR_SAFETY,
    }
)


class Router:
    def __init__(
        self, routes: Mapping[str, Handler], answers: CaseAnswers, languages: Languages
    ) -> None:
        self.routes = dict(routes)
        self.answers = answers
        self.languages = languages

    async def run(self, click: Click) -> Card:
        click = await self.languages.of_click(click)
        handler = self.routes.get(click.verb)
        if handler is None:
            return cards.error_card(click.lang, t(click.lang, "error.unknown_action"))
        try:
            if click.verb in CASE_VERBS:
                inputs.case_id(click.data)  # a button about no readable case is refused first
            return await handler(click)
        except errors.DomainError as exc:
            return await self.answers.refusal(click, exc)
        except Duplicate:
            raise
        except Exception:
            log.exception("action %s failed", click.verb)
            return cards.error_card(click.lang, t(click.lang, "error.unexpected"))
