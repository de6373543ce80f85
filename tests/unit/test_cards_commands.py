"""Typed commands: every alias in every language, with or without diacritics, any case."""

from __future__ import annotations

import pytest

from cards.commands import CANONICAL, COMMANDS, WORDS, fold, language_named, parse_command

ALIASES = [
    ("help", "help"),
    ("ohje", "help"),
    ("hjälp", "help"),
    ("hjalp", "help"),
    ("setup", "setup"),
    ("asetus", "setup"),
    ("inställning", "setup"),
    ("installning", "setup"),
    ("new case", "new case"),
    ("uusi tapaus", "new case"),
    ("nytt ärende", "new case"),
    ("nytt arende", "new case"),
    ("my cases", "my cases"),
    ("omat tapaukset", "my cases"),
    ("mina ärenden", "my cases"),
    ("mina arenden", "my cases"),
    ("quota", "quota"),
    ("kiintiö", "quota"),
    ("kiintio", "quota"),
    ("kvot", "quota"),
    ("mediators", "mediators"),
    ("sovittelijat", "mediators"),
    ("medlare", "mediators"),
    ("reminders", "reminders"),
    ("muistutukset", "reminders"),
    ("påminnelser", "reminders"),
    ("paminnelser", "reminders"),
    ("stats", "stats"),
    ("tilastot", "stats"),
    ("statistik", "stats"),
    ("requests", "requests"),
    ("yhteydenotot", "requests"),
    ("begäranden", "requests"),
    ("begaranden", "requests"),
    ("book", "book"),
    ("varaa", "book"),
    ("boka", "book"),
    ("templates", "templates"),
    ("viestipohjat", "templates"),
    ("mallar", "templates"),
    ("common time", "common time"),
    ("yhteinen aika", "common time"),
    ("gemensam tid", "common time"),
    ("consultations", "consultations"),
    ("konsultaatiot", "consultations"),
    ("konsultationer", "consultations"),
    ("shifts", "shifts"),
    ("vuorot", "shifts"),
    ("turer", "shifts"),
    ("language", "language"),
    ("kieli", "language"),
    ("språk", "language"),
    ("sprak", "language"),
]


def test_the_alias_table_is_exactly_the_words_and_their_plain_spellings() -> None:
    assert dict(ALIASES) == COMMANDS
    assert set(COMMANDS.values()) == set(CANONICAL)
    assert all(alias == alias.lower() for alias in COMMANDS)


@pytest.mark.parametrize(("alias", "command"), ALIASES)
def test_every_alias_parses_to_its_command(alias: str, command: str) -> None:
    assert parse_command(alias) == (command, "")
    assert parse_command(alias.upper()) == (command, "")
    assert parse_command(f"  {alias.title()}  ") == (command, "")


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_help_words_of_each_language_are_commands(lang: str) -> None:
    assert [parse_command(word) for word in WORDS[lang]] == [(c, "") for c in CANONICAL]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Uusi   TAPAUS", ("new case", "")),
        ("uusi\u00a0tapaus", ("new case", "")),  # Teams sends non-breaking spaces
        ("new\tcase  for Hyvinkää ", ("new case", "for Hyvinkää")),
        ("ohje!", ("help", "")),
        ("Kiintiö?", ("quota", "")),
        ("MINA ÄRENDEN nu", ("my cases", "nu")),
        ("Ärende", None),
        ("new", None),
        ("helpful", None),
        ("please help", None),
        ("", None),
        ("   ", None),
    ],
)
def test_parsing_is_robust_and_strict_at_once(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_command(text) == expected


def test_fold_drops_diacritics_and_case() -> None:
    assert fold("KIINTIÖ") == "kiintio"
    assert fold("Inställning") == "installning"


def test_the_language_command_names_each_language_in_any_of_the_three() -> None:
    assert parse_command("Kieli  Svenska") == ("language", "Svenska")
    assert [language_named(w) for w in ("suomi", "Svenska!", "englanniksi", "ENGELSKA")] == [
        "fi",
        "sv",
        "en",
        "en",
    ]
    assert language_named("deutsch") is None
