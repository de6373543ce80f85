"""The case card in the bank channel: re-rendered from the database after every change,
updated in place, and posted again when Teams has lost the message."""

from __future__ import annotations

import asyncio
from typing import Any

from cards.i18n import t
from mediation import services
from mediation.outbox import MessageKind, OutboxStatus
from tests.e2e.conftest import CHANNEL, Bank, Posted, words
from tests.unit.factories import FORM

FAMILY = [str(FORM[k]) for k in ("parent1_name", "parent1_phone", "parent1_email", "parent2_name")]


async def rendered_from_database(bank: Bank, case: Posted) -> dict[str, Any]:
    """The channel card as Sopu would draw it now from what the database holds."""
    sopu = bank.sopu
    summary = await services.summary_of(sopu.uow(), case.case_id, bank.clock, sopu.settings.policy)
    return await sopu.gateway.channel_card(summary)


async def assert_card_is_current(bank: Bank, case: Posted) -> dict[str, Any]:
    card = bank.channel_card(case)
    assert card == await rendered_from_database(bank, case)
    for value in FAMILY:
        assert value not in words(card)
    return card


async def test_the_card_follows_every_change_in_place(bank: Bank) -> None:
    case = await bank.new_case()
    olli = await bank.mediator("olli")
    outi = await bank.mediator("outi")
    steps: list[tuple[str, str, dict[str, Any], str]] = [
        ("olli", "case.claim", {}, "Olli Kokenut"),
        ("niina", "case.claim", {}, "Niina Uusi"),
        ("niina", "case.release", {}, t("en", "status.open")),
        ("coord", "case.assign", {"mediator_id": str(outi.id), "seat": "2"}, "Outi Osaava"),
        ("coord", "case.release", {"seat": 1}, t("en", "case.seat_free")),
        ("coord", "case.assign", {"mediator_id": str(olli.id)}, t("en", "status.paired")),
        ("coord", "case.close", {"outcome": "agreement"}, t("en", "outcome.agreement")),
    ]
    for key, verb, data, shown in steps:
        updates = len(bank.connector.of_kind("update"))
        answer = await bank.teams.click(
            key, verb, {"case_id": case.case_id, **data}, thread=case.thread
        )
        assert answer["body"][0].get("color") != "Attention", words(answer)
        # The card is updated before the click is answered.
        assert len(bank.connector.of_kind("update")) == updates + 1, (verb, data)
        update = bank.connector.of_kind("update")[-1]
        assert (update.conversation_id, update.activity_id) == (case.thread, case.activity_id)
        card = await assert_card_is_current(bank, case)
        assert shown in words(card), (verb, data)
    # One post, then only updates of it: never a second card for the same case.
    posts = [s for s in bank.connector.of_kind("create") if s.conversation_id.startswith(CHANNEL)]
    assert len(posts) == 1
    assert card["lang"] == "en"  # the channel is shared: its card is in the bank's language
    assert "case.claim" not in str(card)


async def test_a_lost_card_is_posted_again_and_then_updated(bank: Bank) -> None:
    case = await bank.new_case()
    bank.connector.forget(case.thread, case.activity_id)  # someone deleted the message

    await bank.claim("olli", case)

    reposts = [s for s in bank.connector.of_kind("create") if s.activity_id != case.activity_id]
    assert len(reposts) == 1
    repost = reposts[0]
    assert "Olli Kokenut" in words(repost.card)
    stored = await bank.sopu.store.case_post(case.case_id)
    assert stored is not None
    assert stored.conversation_id == repost.conversation_id
    assert stored.activity_id == repost.activity_id
    await assert_card_is_current(bank, case)

    # The next change updates the new post in place.
    await bank.claim("outi", case)
    update = await bank.connector.wait_for(
        lambda s: s.kind == "update" and s.activity_id == repost.activity_id
    )
    assert "Outi Osaava" in words(update.card)
    await assert_card_is_current(bank, case)
    assert len(bank.connector.of_kind("create")) == 2


async def test_an_update_teams_refuses_is_posted_again(bank: Bank) -> None:
    case = await bank.new_case()
    bank.connector.fail_updates.append(404)  # ActivityNotFoundInConversation
    await bank.claim("olli", case)
    path = f"/v3/conversations/{case.thread}/activities/{case.activity_id}"
    assert bank.connector.refused == [("PUT", path)]
    repost = await bank.connector.wait_for(
        lambda s: s.kind == "create" and s.activity_id != case.activity_id
    )
    assert "Olli Kokenut" in words(repost.card)
    await assert_card_is_current(bank, case)


async def test_a_failed_update_and_repost_keep_the_action(bank: Bank) -> None:
    """When Teams takes neither the update nor the new post, the claim still stands."""
    case = await bank.new_case()
    bank.connector.fail_updates.append(404)
    bank.connector.fail_next.extend([403])  # the re-post is refused too
    card = await bank.claim("olli", case)
    assert t("en", "notice.claimed", seat=1, code=case.code) in words(card)
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: None}

    # The next change brings the channel up to date again.
    await bank.claim("outi", case)
    await bank.connector.wait_for(lambda s: "Outi Osaava" in s.text and "Olli Kokenut" in s.text)
    await assert_card_is_current(bank, case)


async def test_a_refresh_draws_the_card_from_the_database(bank: Bank) -> None:
    case = await bank.new_case()
    await bank.claim("olli", case)
    card = await bank.teams.click(
        "sven", "card.refresh", {"case_id": case.case_id}, thread=case.thread, locale="sv-SE"
    )
    assert card["lang"] == "en"  # in the channel: the bank's language, whoever clicks
    assert "Olli Kokenut" in words(card)
    assert t("en", "case.title", code=case.code) in words(card)


async def test_a_throttled_update_is_not_posted_twice(bank: Bank) -> None:
    """Only a lost message is posted again: a second thread for one case would mislead."""
    case = await bank.new_case()
    for status in (429, 412, 403):
        bank.connector.fail_updates.append(status)
        await bank.claim("olli", case)
        await bank.teams.click(
            "olli", "case.release", {"case_id": case.case_id}, thread=case.thread
        )
    posts = [s for s in bank.connector.of_kind("create") if s.conversation_id.startswith(CHANNEL)]
    assert len(posts) == 1
    stored = await bank.sopu.store.case_post(case.case_id)
    assert stored is not None and stored.activity_id == case.activity_id
    await assert_card_is_current(bank, case)  # each next change brought it up to date


async def test_a_throttled_update_goes_through_on_a_later_try(bank: Bank) -> None:
    """Teams refused the update for now: the card catches up without waiting for a change."""
    case = await bank.new_case()
    # Throttled through the connector's own three tries after Retry-After.
    bank.connector.retry_after = 0.01
    bank.connector.fail_updates.extend([429] * 4)
    card = await bank.claim("olli", case)
    assert t("en", "notice.claimed", seat=1, code=case.code) in words(card)
    path = f"/v3/conversations/{case.thread}/activities/{case.activity_id}"
    assert bank.connector.refused == [("PUT", path)] * 4
    # The refused update waits in the outbox for its next try (a second or so later).
    bank.clock.advance(seconds=30)
    bank.sopu.jobs.sender.wake()
    update = await bank.connector.wait_for(
        lambda s: s.kind == "update" and "Olli Kokenut" in words(s.card)
    )
    assert update.activity_id == case.activity_id  # in place, not a second thread
    await assert_card_is_current(bank, case)
    await bank.sopu.jobs.sender.settled()
    assert not await bank.sopu.jobs.services.outbox.unfinished()


async def test_the_clicker_is_answered_before_the_channel_card_is_updated(bank: Bank) -> None:
    case = await bank.new_case()
    bank.teams.settle = None  # post as Teams does: without waiting for what follows
    bank.connector.stall = 0.5  # a slow Bot Connector
    loop = asyncio.get_running_loop()
    began = loop.time()
    answer = await bank.claim("olli", case)
    answered = loop.time() - began
    assert t("en", "notice.claimed", seat=1, code=case.code) in words(answer)
    assert answered < 0.5  # the answer did not wait for the connector
    update = await bank.connector.wait_for(lambda s: s.kind == "update", timeout=5)
    assert "Olli Kokenut" in words(update.card)


async def test_a_burst_of_changes_to_one_case_updates_its_card_once_it_is_settled(
    bank: Bank,
) -> None:
    case = await bank.new_case()
    bank.teams.settle = None
    bank.connector.stall = 0.3
    await bank.claim("olli", case)  # its card update is now on its way, slowly
    await asyncio.sleep(0.05)
    for who in ("outi", "olli", "outi"):  # three more changes while it is
        await bank.teams.click(
            who,
            "case.release" if who == "olli" else "case.claim",
            {"case_id": case.case_id},
            thread=case.thread,
        )
    await bank.sopu.jobs.sender.settled()
    updates = [s for s in bank.connector.log if s.kind == "update"]
    # The first update, and one more that shows all three later changes together.
    assert len(updates) == 2
    assert "Outi Osaava" in words(bank.channel_card(case))
    # Each change's own update is done: sent, or ended with the update that showed it.
    queued = [
        m
        for m in await bank.sopu.jobs.services.outbox.all()
        if m.key.kind is MessageKind.CARD_UPDATE
    ]
    assert len(queued) >= 3 and {m.status for m in queued} == {OutboxStatus.SENT}
    # At least one ended without ever being claimed: the card shown covered it.
    assert [m for m in queued if m.error == "shown by a later update" and m.attempts == 0]
