"""Small cards: help, the language choice, a notice, an error, the bank channel set."""

from __future__ import annotations

from cards.base import Card, card, facts, heading, plain, text
from cards.commands import (
    BOOK,
    CANONICAL,
    MEDIATORS,
    NEW_CASE,
    REQUESTS,
    SETUP,
    STATS,
    TEMPLATES,
    WORDS,
)
from cards.i18n import LANGS, Lang, t

# Commands only a coordinator can use; mediators are not shown them.
_COORDINATOR_ONLY = frozenset({SETUP, NEW_CASE, MEDIATORS, STATS, REQUESTS, BOOK, TEMPLATES})


def help_card(lang: Lang, is_coordinator: bool) -> Card:
    """What Sopu does and the commands, in the user's language."""
    words = dict(zip(CANONICAL, WORDS[lang], strict=True))
    commands = [
        (words[c], t(lang, f"help.cmd.{c.replace(' ', '_')}"))
        for c in CANONICAL
        if is_coordinator or c not in _COORDINATOR_ONLY
    ]
    body = [
        heading(t(lang, "help.title")),
        text(t(lang, "help.intro")),
        text(t(lang, "help.commands"), weight="Bolder"),
        facts(commands),
        text(t(lang, "help.mention"), subtle=True),
        text(t(lang, "help.languages"), subtle=True, spacing="None"),
        text(t(lang, "help.privacy"), subtle=True, size="Small"),
    ]
    if is_coordinator:
        body.insert(2, text(t(lang, "help.coordinator")))
    return card(lang, body)


def language_card(lang: Lang) -> Card:
    """How to choose the language Sopu answers in, with the command in each language."""
    return card(
        lang,
        [
            heading(t(lang, "language.title")),
            text(t(lang, "language.now", language=t(lang, f"language.name.{lang}"))),
            text(t(lang, "language.how")),
            facts(
                [(t(code, f"language.name.{code}"), t(code, "language.example")) for code in LANGS]
            ),
            text(t(lang, "language.channel_note"), subtle=True, size="Small"),
        ],
    )


def notice_card(lang: Lang, message: str) -> Card:
    """One sentence, already translated."""
    return card(lang, [text(message)])


def error_card(lang: Lang, message: str) -> Card:
    """One refusal or error sentence, already translated, in the attention colour."""
    return card(lang, [text(message, color="Attention")])


def setup_done_card(lang: Lang, channel_name: str | None) -> Card:
    """To the coordinator who made a channel the bank's channel."""
    done = (
        t(lang, "setup.done_named", channel=plain(channel_name))
        if channel_name
        else t(lang, "setup.done")
    )
    return card(
        lang,
        [heading(t(lang, "setup.title")), text(done), text(t(lang, "setup.next"), subtle=True)],
    )
