"""A mediator's .ics feed address: a new one on request, none once they leave the registry."""

from __future__ import annotations

import dataclasses

from bot.keys import CALENDAR
from cards import verbs
from cards.i18n import t
from tests.e2e.conftest import Bank, verbs_on, words
from tests.integration.graph_support import propose


def _feed_path(card: dict[str, object]) -> str:
    line = next(line for line in words(card).splitlines() if "/calendar/" in line)
    url = line[line.index("http") :].split()[0]
    return url[url.index("/calendar/") :]


async def _status(bank: Bank, path: str) -> int:
    async with bank.teams.http.get(f"{bank.teams.base}{path}") as resp:
        return resp.status


async def test_a_mediator_gets_a_new_feed_address_and_the_old_one_stops(bank: Bank) -> None:
    case = await bank.paired("olli", "outi")
    card = await propose(bank, "olli", {"case_id": case.case_id})
    assert verbs.MEETINGS_FEED_ROTATE in verbs_on(card)
    old = _feed_path(card)
    assert await _status(bank, old) == 200

    bank.clock.advance(minutes=5)
    answer = await bank.teams.click(
        "olli", verbs.MEETINGS_FEED_ROTATE, {"case_id": case.case_id}, "personal"
    )
    new = _feed_path(answer)
    assert new != old
    assert t("en", "calendar.feed.rotated", url="").split(":")[0] in words(answer)
    assert await _status(bank, old) == 404
    assert await _status(bank, new) == 200

    # The same click delivered again moments later keeps the address its answer showed.
    again = await bank.teams.click(
        "olli", verbs.MEETINGS_FEED_ROTATE, {"case_id": case.case_id}, "personal"
    )
    assert _feed_path(again) == new
    # Outi's feed is her own and did not change.
    outi = await propose(bank, "outi", {"case_id": case.case_id})
    assert await _status(bank, _feed_path(outi)) == 200


async def test_only_someone_in_the_registry_can_ask_for_a_new_address(bank: Bank) -> None:
    case = await bank.paired("olli", "outi")
    answer = await bank.teams.click(
        "stranger", verbs.MEETINGS_FEED_ROTATE, {"case_id": case.case_id}, "personal"
    )
    assert "not in the mediator registry" in words(answer)


async def test_the_feed_expires_when_its_mediator_leaves_the_registry(bank: Bank) -> None:
    case = await bank.paired("olli", "outi")
    path = _feed_path(await propose(bank, "olli", {"case_id": case.case_id}))
    olli = await bank.mediator("olli")
    for active in ("false", "true"):  # out and back in, the feed never asked for between
        await bank.teams.click(
            "coord", verbs.MEDIATOR_UPDATE, {"mediator_id": olli.id, "active": active}, "personal"
        )
    assert (await bank.mediator("olli")).active
    assert await _status(bank, path) == 404
    fresh = await bank.app[CALENDAR].feed_url(olli.id)
    assert fresh is not None and path not in fresh


async def test_a_mediator_made_inactive_anywhere_loses_the_feed_at_once(bank: Bank) -> None:
    """Made inactive outside the registry card (the registry import saves the same way) and
    active again, the feed never asked for between: the old address does not come back."""
    olli = await bank.mediator("olli")
    feed = await bank.app[CALENDAR].feed_url(olli.id)
    assert feed is not None
    path = feed[feed.index("/calendar/") :]
    assert await _status(bank, path) == 200
    for active in (False, True):
        uow = bank.sopu.uow()
        async with uow:
            await uow.mediators.save(dataclasses.replace(olli, active=active))
            await uow.commit()
    assert await _status(bank, path) == 404


async def test_an_address_shown_once_can_be_replaced_at_once(bank: Bank) -> None:
    """The grace that keeps a redelivered click's address is for rotations only: an address
    just made, and seen leaking, must not stay valid for those seconds."""
    case = await bank.paired("olli", "outi")
    first = _feed_path(await propose(bank, "olli", {"case_id": case.case_id}))
    answer = await bank.teams.click(
        "olli", verbs.MEETINGS_FEED_ROTATE, {"case_id": case.case_id}, "personal"
    )
    assert _feed_path(answer) != first
    assert await _status(bank, first) == 404
