"""Typed commands in Finnish, Swedish and English, mapped to one canonical command each."""

from __future__ import annotations

import unicodedata

HELP = "help"
SETUP = "setup"
NEW_CASE = "new case"
MY_CASES = "my cases"
QUOTA = "quota"
MEDIATORS = "mediators"
REMINDERS = "reminders"
STATS = "stats"
REQUESTS = "requests"
LANGUAGE = "language"
BOOK = "book"
TEMPLATES = "templates"
COMMON_TIME = "common time"
CONSULTATIONS = "consultations"
SHIFTS = "shifts"

CANONICAL: tuple[str, ...] = (
    HELP,
    SETUP,
    NEW_CASE,
    MY_CASES,
    QUOTA,
    MEDIATORS,
    REMINDERS,
    STATS,
    REQUESTS,
    LANGUAGE,
    BOOK,
    TEMPLATES,
    COMMON_TIME,
    CONSULTATIONS,
    SHIFTS,
)

# The words shown in each language's help card, in CANONICAL order.
WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "help",
        "setup",
        "new case",
        "my cases",
        "quota",
        "mediators",
        "reminders",
        "stats",
        "requests",
        "language",
        "book",
        "templates",
        "common time",
        "consultations",
        "shifts",
    ),
    "fi": (
        "ohje",
        "asetus",
        "uusi tapaus",
        "omat tapaukset",
        "kiintiö",
        "sovittelijat",
        "muistutukset",
        "tilastot",
        "yhteydenotot",
        "kieli",
        "varaa",
        "viestipohjat",
        "yhteinen aika",
        "konsultaatiot",
        "vuorot",
    ),
    "sv": (
        "hjälp",
        "inställning",
        "nytt ärende",
        "mina ärenden",
        "kvot",
        "medlare",
        "påminnelser",
        "statistik",
        "begäranden",
        "språk",
        "boka",
        "mallar",
        "gemensam tid",
        "konsultationer",
        "turer",
    ),
}

_PUNCTUATION = ".,!?:;"

# What may follow ``language``: each language's code and its names in the three languages.
LANGUAGE_NAMES: dict[str, str] = {
    "fi": "fi",
    "suomi": "fi",
    "suomeksi": "fi",
    "finska": "fi",
    "finnish": "fi",
    "sv": "sv",
    "ruotsi": "sv",
    "ruotsiksi": "sv",
    "svenska": "sv",
    "swedish": "sv",
    "en": "en",
    "englanti": "en",
    "englanniksi": "en",
    "engelska": "en",
    "english": "en",
}


def fold(text: str) -> str:
    """Lower-case without diacritics: 'Kiintiö' -> 'kiintio', 'ärende' -> 'arende'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _aliases() -> dict[str, str]:
    table: dict[str, str] = {}
    for words in WORDS.values():
        for canonical, word in zip(CANONICAL, words, strict=True):
            table[word] = canonical
            table[fold(word)] = canonical
    return table


# Every accepted spelling (lower case, with and without diacritics) -> canonical command.
COMMANDS: dict[str, str] = _aliases()

# Longest first, so "new case" wins over a one-word command that starts the same way.
_BY_LENGTH: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    sorted(
        {(tuple(fold(a).split()), c) for a, c in COMMANDS.items()},
        key=lambda item: -len(item[0]),
    )
)


def language_named(text: str) -> str | None:
    """'Svenska' -> 'sv', 'englanniksi' -> 'en'; None for anything else."""
    return LANGUAGE_NAMES.get(fold(text.strip().rstrip(_PUNCTUATION)))


def parse_command(text: str) -> tuple[str, str] | None:
    """'  Uusi   TAPAUS  x ' -> ('new case', 'x'); None when the text is no command.

    The caller has already removed the bot's @mention from the text.
    """
    tokens = text.split()
    folded = [fold(token) for token in tokens]
    for words, canonical in _BY_LENGTH:
        n = len(words)
        if len(folded) < n:
            continue
        head = folded[:n]
        head[-1] = head[-1].rstrip(_PUNCTUATION)
        if tuple(head) == words:
            return canonical, " ".join(tokens[n:])
    return None
