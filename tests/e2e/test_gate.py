"""The gate on /api/messages: the tenant/team/channel allow-list and redelivered activities.

A refused origin gets HTTP 403 with nothing sent and nothing changed; Sopu's own
proactive turns (which carry no tenant) keep working; a redelivered activity gets the
current card and has no second effect, for at least a day.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from bot.bootstrap import forget_old_activities
from bot.settings import Settings
from cards.i18n import t
from mediation.journal import CaseEventKind
from tests.clock import FixedClock
from tests.e2e.conftest import (
    CHANNEL,
    TENANT,
    Bank,
    Unchanged,
    answer_card,
    running,
    verbs_on,
    words,
)
from tests.fakes.connector import FakeConnector
from tests.unit.factories import FORM

FOREIGN_TENANT = "99999999-0000-4000-8000-000000000099"
OTHER_TEAM = "19:other-team@thread.tacv2"
OTHER_CHANNEL = "19:bank-general@thread.tacv2"


async def forbidden(bank: Bank, activity: dict[str, Any]) -> None:
    async with Unchanged(bank):
        status, body = await bank.teams.post(activity)
    assert status == 403, (status, body, activity.get("channelData"))


# -- the allow-list ------------------------------------------------------------------------------


async def test_a_foreign_tenant_is_refused_everywhere(bank: Bank) -> None:
    case = await bank.new_case()
    teams = bank.teams
    for where in ("personal", "channel"):
        await forbidden(bank, teams.message("coord", "help", where, tenant=FOREIGN_TENANT))
        click = teams.click_activity(
            "olli", "case.claim", {"case_id": case.case_id}, where, tenant=FOREIGN_TENANT
        )
        await forbidden(bank, click)
    install = teams.message("olli", "", tenant=FOREIGN_TENANT) | {
        "type": "conversationUpdate",
        "membersAdded": [{"id": "29:olli"}],
    }
    await forbidden(bank, install)
    assert await bank.holders(case) == {1: None, 2: None}


async def test_the_tenant_is_read_from_wherever_teams_puts_it(bank: Bank) -> None:
    teams = bank.teams
    message = teams.message("olli", "help")
    del message["channelData"]["tenant"]
    status, _ = await teams.post(message)  # conversation.tenantId alone
    assert status == 200

    message = teams.message("olli", "help", tenant=TENANT.upper())
    status, _ = await teams.post(message)  # ids compare without case
    assert status == 200

    nowhere = teams.message("olli", "help")
    del nowhere["channelData"]["tenant"], nowhere["conversation"]["tenantId"]
    await forbidden(bank, nowhere)

    for field in ("channelData", "conversation"):
        mixed = teams.message("olli", "help")
        if field == "channelData":
            mixed["channelData"]["tenant"]["id"] = FOREIGN_TENANT
        else:
            mixed["conversation"]["tenantId"] = FOREIGN_TENANT
        await forbidden(bank, mixed)


async def test_a_team_or_channel_outside_the_list_is_refused(bank: Bank) -> None:
    case = await bank.new_case()
    teams = bank.teams
    for place in ({"team": OTHER_TEAM}, {"channel": OTHER_CHANNEL}, {"team": OTHER_TEAM.upper()}):
        await forbidden(bank, teams.message("coord", "setup", "channel", **place))
        click = teams.click_activity("olli", "case.claim", {"case_id": case.case_id}, **place)
        await forbidden(bank, click)
    no_channel = teams.message("coord", "setup", "channel")
    del no_channel["channelData"]["channel"]
    await forbidden(bank, no_channel)
    assert await bank.holders(case) == {1: None, 2: None}
    channel = await bank.sopu.store.bank_channel()
    assert channel is not None and channel.channel_id == CHANNEL


async def test_personal_chat_needs_only_an_allowed_tenant(bank: Bank) -> None:
    """Personal chats carry no team or channel; a team in one is checked like any other."""
    card = await bank.teams.ask("olli", "help")
    assert t("en", "help.title") in words(card)
    posing = bank.teams.message("olli", "help", channel_data={"team": {"id": OTHER_TEAM}})
    await forbidden(bank, posing)


async def test_no_list_means_everyone_in_development(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Settings
) -> None:
    open_settings = dataclasses.replace(
        e2e_settings,
        allowed_tenants=frozenset(),
        allowed_teams=frozenset(),
        allowed_channels=frozenset(),
    )
    async with running(open_settings, connector, clock) as bank:
        card = await bank.teams.ask("olli", "help", tenant=FOREIGN_TENANT)
        assert t("en", "help.title") in words(card)
        card = await bank.teams.ask("olli", "help", "channel", team=OTHER_TEAM)
        assert t("en", "help.title") in words(card)


async def test_proactive_turns_pass_the_gate(bank: Bank) -> None:
    """Posting a case, updating its card and writing to people are turns with no tenant."""
    case = await bank.new_case()
    assert bank.connector.of_kind("create")  # create_conversation in the bank channel
    await bank.claim("olli", case)
    await bank.claim("outi", case)
    updated = await bank.connector.wait_for(lambda s: s.kind == "update")
    assert updated.conversation_id == case.thread  # continue_conversation
    for key in ("olli", "outi"):
        await bank.connector.wait_for(
            lambda s, key=key: s in bank.personal(key) and case.code in s.text
        )
    assert bank.connector.refused == []


# -- redelivery ------------------------------------------------------------------------------------


async def test_a_redelivered_click_answers_with_the_current_card(bank: Bank) -> None:
    case = await bank.new_case()
    click = bank.teams.click_activity("olli", "case.claim", {"case_id": case.case_id})
    first = answer_card(*await bank.teams.post(click))
    assert t("en", "notice.claimed", seat=1, code=case.code) in words(first)

    async with Unchanged(bank):
        again = answer_card(*await bank.teams.post(click))
    assert "Olli Kokenut" in words(again)
    assert t("en", "notice.claimed", seat=1, code=case.code) not in words(again)
    kinds = [e.kind for e in await bank.events(case)]
    assert kinds.count(CaseEventKind.CLAIMED) == 1

    # A redelivery shows the case as it is now, not as it was at the first click.
    await bank.claim("outi", case)
    now = answer_card(*await bank.teams.post(click))
    assert "Outi Osaava" in words(now)


async def test_a_redelivered_claim_after_its_release_claims_nothing_again(bank: Bank) -> None:
    """A seat change looks no id up first (storage/redelivery.py): a claim redelivered once
    its seat is free again would claim again, and its commit stops it."""
    case = await bank.new_case()
    click = bank.teams.click_activity("olli", "case.claim", {"case_id": case.case_id})
    assert t("en", "notice.claimed", seat=1, code=case.code) in words(
        answer_card(*await bank.teams.post(click))
    )
    await bank.teams.click("olli", "case.release", {"case_id": case.case_id})
    async with Unchanged(bank):
        status, body = await bank.teams.post(click)
    assert status == 200 and case.code in words(body)  # the case, as it now stands
    assert "Olli Kokenut" not in words(body)
    kinds = [e.kind for e in await bank.events(case)]
    assert kinds.count(CaseEventKind.CLAIMED) == 1
    assert kinds.count(CaseEventKind.RELEASED) == 1


async def test_a_click_that_changed_nothing_is_answered_again_as_things_now_stand(
    bank: Bank,
) -> None:
    case = await bank.new_case()
    await bank.claim("olli", case)
    await bank.claim("outi", case)
    click = bank.teams.click_activity("niina", "case.claim", {"case_id": case.case_id})
    refused = t("en", "error.no_free_seat", code=case.code)
    async with Unchanged(bank):
        assert refused in words(answer_card(*await bank.teams.post(click)))
    # A refusal records nothing: its redelivery is refused again, for the same reason.
    assert not await bank.sopu.store.seen(f"{click['conversation']['id']}|{click['id']}")
    await bank.teams.click("outi", "case.release", {"case_id": case.case_id})
    # ...or, once the seat is free again, it is a claim like any other.
    assert t("en", "notice.claimed", seat=2, code=case.code) in words(
        answer_card(*await bank.teams.post(click))
    )
    assert await bank.sopu.store.seen(f"{click['conversation']['id']}|{click['id']}")


async def test_a_click_redelivered_under_a_new_id_changes_nothing(bank: Bank) -> None:
    case = await bank.new_case()
    await bank.claim("olli", case)
    async with Unchanged(bank):
        card = await bank.claim("olli", case)
    assert t("en", "notice.already_holding", seat=1, code=case.code) in words(card)


async def test_simultaneous_redeliveries_have_one_effect(bank: Bank) -> None:
    case = await bank.new_case()
    click = bank.teams.click_activity("olli", "case.details", {"case_id": case.case_id})
    await bank.claim("olli", case)
    sent = len(bank.connector.log)
    answers = await asyncio.gather(*(bank.teams.post(click) for _ in range(4)))
    for status, body in answers:
        assert "Aino Virtanen" not in words(answer_card(status, body))
    assert len(await bank.accesses(case)) == 1
    details = [s for s in bank.personal("olli", after=sent) if "Aino Virtanen" in s.text]
    assert len(details) == 1


async def test_redelivered_messages_and_forms_have_no_second_effect(bank: Bank) -> None:
    command = bank.teams.message("coord", "new case")
    assert (await bank.teams.post(command))[0] == 200
    form = await bank.connector.wait_for(lambda s: "case.create" in verbs_on(s.card or {}))
    async with Unchanged(bank):
        assert (await bank.teams.post(command))[0] == 200

    submit = next(a for a in form.card["actions"] if a.get("verb") == "case.create")  # type: ignore[index]
    create = bank.teams.click_activity(
        "coord", "case.create", {**FORM, **submit["data"]}, where="personal"
    )
    first = answer_card(*await bank.teams.post(create))
    assert t("en", "posted.title", code="2026-001") in words(first)
    async with Unchanged(bank):
        again = answer_card(*await bank.teams.post(create))
        # The same form sent again from a new activity id: still one case.
        resent = answer_card(*await bank.teams.post(create | {"id": "resubmit-1"}))
    # Either way the form's id, committed with the case, tells the truth.
    assert t("en", "notice.form_already_sent") in words(again)
    assert t("en", "notice.form_already_sent") in words(resent)


async def test_activity_ids_are_kept_at_least_a_day(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Settings
) -> None:
    # Even a setting of one hour keeps them 24 h: Teams may redeliver for that long.
    settings = dataclasses.replace(e2e_settings, processed_activity_hours=1)
    async with running(settings, connector, clock) as bank:
        await bank.setup()
        case = await bank.new_case()
        click = bank.teams.click_activity("olli", "case.claim", {"case_id": case.case_id})
        answer_card(*await bank.teams.post(click))
        await bank.teams.click(
            "olli", "case.release", {"case_id": case.case_id}, thread=case.thread
        )

        clock.advance(hours=23, minutes=59)
        await forget_old_activities(bank.sopu)
        async with Unchanged(bank):  # not claimed again
            card = answer_card(*await bank.teams.post(click))
        assert t("en", "notice.claimed", seat=1, code=case.code) not in words(card)
        assert await bank.holders(case) == {1: None, 2: None}

        clock.advance(hours=1)
        assert await forget_old_activities(bank.sopu) > 0
        key = f"{click['conversation']['id']}|{click['id']}"
        assert await bank.sopu.store.first_seen(key, clock.now())


async def test_the_same_id_in_another_conversation_is_not_a_redelivery(bank: Bank) -> None:
    first = bank.teams.message("olli", "help", id="1")
    second = bank.teams.message("outi", "help", id="1")
    for activity in (first, second):
        assert (await bank.teams.post(activity))[0] == 200
    for key in ("olli", "outi"):
        await bank.connector.wait_for(lambda s, key=key: s in bank.personal(key))
