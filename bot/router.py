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

# The buttons of the case card, the only card Sopu puts in a channel. Every other verb
# belongs to a card of personal chat (details, the registry, calendars, requests...):
# sent from a channel it is refused before its handler runs, so that no answer about a
# person or a family can land where the whole team reads it. (Clearing a safety concern is
# a case's verb of the details card, which lives in personal chat.)
CHANNEL_VERBS = CASE_VERBS - {verbs.CASE_CLEAR_SAFETY}


def _outside_personal_chat(verb: str) -> str:
    """Why a personal chat's button is refused in a channel, in the words of its card."""
    if verb == verbs.CASE_CREATE:
        return "error.personal_chat_only"  # the intake form's own reason: the family
    if verb.startswith("request."):
        return "request.error.personal_chat_only"
    if verb.startswith(("commontime.", "consult.", "shift", "visit.", "stats.", "bank.")):
        return "error.personal_data_only"
    if verb.startswith("organisation"):
        return "error.personal_data_only"
    return "error.personal_only"


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
        if not click.personal and click.verb not in CHANNEL_VERBS:
            log.info("action %s refused outside personal chat", click.verb)
            return cards.error_card(click.lang, t(click.lang, _outside_personal_chat(click.verb)))
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
