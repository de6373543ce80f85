"""Which language Sopu answers in: the bank channel's cards in the bank's language, a person
in the language they chose with the ``language`` command, else in their Teams' locale."""

from __future__ import annotations

import dataclasses
from time import monotonic

from bot.deps import Click, Message
from cards.i18n import LANGS, Lang, lang_of
from mediation.policy import BankPolicy
from mediation.ports import Clock
from storage.botstore import BotStore

# How long a person's choice is reused before it is read again; a choice made through
# another replica reaches this one that much later.
CHOICE_SECONDS = 30.0


def bank_language(policy: BankPolicy) -> Lang:
    """The language of the bank channel's cards (a setting, Finnish unless set)."""
    return lang_of(policy.language)


class Languages:
    def __init__(self, store: BotStore, clock: Clock, bank: Lang) -> None:
        self.store = store
        self.clock = clock
        self.bank = bank
        self._chosen: dict[str, tuple[float, Lang | None]] = {}

    async def chosen(self, aad: str) -> Lang | None:
        """The person's own choice, if they made one."""
        key = aad.lower()
        now = monotonic()
        known = self._chosen.get(key)
        if known is not None and now - known[0] < CHOICE_SECONDS:
            return known[1]
        stored = await self.store.chosen_language(key)
        lang = lang_of(stored) if stored in LANGS else None
        self._chosen[key] = (now, lang)
        return lang

    async def choose(self, aad: str, lang: Lang) -> None:
        await self.store.choose_language(aad, lang, self.clock.now())
        self._chosen[aad.lower()] = (monotonic(), lang)

    async def of_click(self, click: Click) -> Click:
        """A click in the channel is answered with the channel's card, in the bank's language."""
        if not click.personal:
            return dataclasses.replace(click, lang=self.bank)
        chosen = await self.chosen(click.actor) if click.actor else None
        return dataclasses.replace(click, lang=chosen) if chosen else click

    async def of_message(self, message: Message) -> Message:
        """A typed message is answered in the writer's chosen language, else their locale's."""
        chosen = await self.chosen(message.actor) if message.actor else None
        return dataclasses.replace(message, lang=chosen) if chosen else message
