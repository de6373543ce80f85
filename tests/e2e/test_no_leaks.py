"""Nothing a family told Sopu reaches a log: canaries in every intake field, errors forced.

Every log record of the running app (access log, refusals, tracebacks of failed turns) is
captured at DEBUG while forms carrying a canary in every field are registered, refused for
control characters and lone surrogates, and made to fail inside the database's insert.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from bot.settings import Settings
from cards.i18n import Lang, t
from storage.db import create_engine
from tests.clock import FixedClock
from tests.e2e.conftest import CHANNEL, TEAM, TENANT, Bank, Unchanged, running, words
from tests.e2e.test_actions import form_id, next_to, submit
from tests.fakes.connector import FakeConnector
from tests.unit.factories import FORM

CANARY = "Kanarialintu"
CANARY_DIGITS = "918 2736"
CANARIED: dict[str, Any] = {
    **FORM,  # the area is a choice from the bank's list: no text of the family's own
    "parent1_name": f"Aino {CANARY}",
    "parent1_phone": f"040 {CANARY_DIGITS}",
    "parent1_email": f"{CANARY.lower()}@example.org",
    "parent2_name": f"Mikko {CANARY}",
    "parent2_phone": f"050 {CANARY_DIGITS}",
    "parent2_email": f"{CANARY.lower()}.2@example.org",
}
TEXT_FIELDS = ["parent1_name", "parent1_phone", "parent1_email", "parent2_name"]
# The database refuses any parent whose name carries this: an insert failing mid-turn.
REFUSED = "Pakkovirhe"


def leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured log line (tracebacks included) that carries a canary."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    found = []
    for record in caplog.records:
        line = formatter.format(record)
        digits = line.replace(" ", "")
        if (
            CANARY.lower() in line.lower()
            or REFUSED.lower() in line.lower()
            or CANARY_DIGITS.replace(" ", "") in digits
        ):
            found.append(line)
    return found


async def refuse_in_database(url: str) -> None:
    """A constraint (a trigger on SQLite) that makes some parents' insert fail."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(
                    text(
                        "ALTER TABLE family_parent ADD CONSTRAINT no_refused "
                        f"CHECK (name NOT LIKE '%{REFUSED}%')"
                    )
                )
            else:
                await connection.execute(
                    text(
                        "CREATE TRIGGER no_refused BEFORE INSERT ON family_parent "
                        f"WHEN NEW.name LIKE '%{REFUSED}%' "
                        "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
                    )
                )
    finally:
        await engine.dispose()


@pytest.fixture
async def leaky_bank(
    database_url: str, connector: FakeConnector, clock: FixedClock
) -> AsyncIterator[Bank]:
    settings = Settings(
        database_url=database_url,
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
    )
    async with running(settings, connector, clock) as bank:
        await refuse_in_database(database_url)
        await bank.setup()
        yield bank


async def test_no_canary_in_any_log_line(
    leaky_bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    bank = leaky_bank
    caplog.set_level(logging.DEBUG)

    # Registered, claimed by a pair, its details opened: the family's data flows.
    case = await bank.new_case(CANARIED)
    await bank.claim("olli", case)
    await bank.claim("outi", case)
    details = await bank.teams.click("olli", "case.details", {"case_id": case.case_id}, "personal")
    assert CANARY in words(details)

    # Control characters at every field, in each language: refused next to the field.
    languages: tuple[tuple[str, Lang], ...] = (("fi-FI", "fi"), ("sv-SE", "sv"), ("en-US", "en"))
    for locale, lang in languages:
        stamp = await form_id(bank, locale=locale)
        for bad in ("\x01", "\t", "\u2028"):
            for field in TEXT_FIELDS:
                typed = str(CANARIED[field])
                form = {**CANARIED, field: f"{typed[:3]}{bad}{typed[3:]}"}
                async with Unchanged(bank):
                    card = await submit(bank, form, stamp, locale=locale)
                assert next_to(card, field) == t(lang, "problem.control_character")

    # A lone surrogate or a NUL never gets as far as the form: the gate refuses the activity.
    for escaped in ("\\ud800", "\\u0000"):
        stamp = await form_id(bank)
        click = bank.teams.click_activity(
            "coord", "case.create", {**CANARIED, **stamp, "parent1_name": "@@"}, where="personal"
        )
        raw = json.dumps(click).replace('"@@"', f'"Aino {CANARY}{escaped}"').encode()
        async with Unchanged(bank):
            status, _ = await bank.teams.post(raw=raw)
        assert status == 400

    # The database refuses the insert mid-turn: the coordinator gets an error, the log a
    # traceback, and neither the statement's values nor the database's detail.
    stamp = await form_id(bank)
    refused = {**CANARIED, "parent2_name": f"Mikko {REFUSED} {CANARY}"}
    await bank.teams.post(
        bank.teams.click_activity("coord", "case.create", {**refused, **stamp}, where="personal")
    )
    assert any(r.levelno >= logging.ERROR for r in caplog.records), "the failure is logged"
    assert len((await bank.state())["mediation_case"]) == 1

    await bank.sopu.jobs.sender.settled()
    assert not leaks(caplog), leaks(caplog)[:3]
