"""Buttons of an out-of-date case card: refused with the fresh card where it matters, else done.

Every button that changes a case carries what its card showed; the server compares it with
the case under the case's lock, and only the seat or status the action is about counts.
"""

from __future__ import annotations

from typing import Any

from cards.i18n import t
from tests.e2e.conftest import LOCALES, Bank, Unchanged, words


def button_data(card: dict[str, Any], verb: str, **having: str) -> dict[str, Any]:
    """The data of the card's button with ``verb`` (and ``having`` in its data), wherever
    it is folded."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb") == verb:
                data = dict(node["data"])
                if all(data.get(k) == v for k, v in having.items()):
                    found.append(data)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    assert found, f"no {verb} button on the card"
    return found[0]


def is_refusal(card: dict[str, Any]) -> bool:
    return any(b.get("color") == "Attention" for b in card["body"] if isinstance(b, dict))


async def test_assigning_from_a_stale_card_replaces_nobody(bank: Bank) -> None:
    case = await bank.new_case()
    # What the coordinator has on screen: the assign list opened, both seats free.
    opener = button_data(bank.channel_card(case), "card.refresh", open="assign")
    stale = await bank.teams.click("coord", "card.refresh", opener, thread=case.thread)
    claimed = await bank.teams.click(
        "olli", "case.claim", button_data(stale, "case.claim"), thread=case.thread
    )
    assert not is_refusal(claimed)
    outi = await bank.mediator("outi")
    assign = {**button_data(stale, "case.assign"), "mediator_id": str(outi.id), "seat": "1"}
    async with Unchanged(bank):
        answer = await bank.teams.click(
            "coord", "case.assign", assign, thread=case.thread, locale=LOCALES["sv"]
        )
    assert is_refusal(answer) and answer["lang"] == "en"  # the channel's language
    assert t("en", "error.stale_seat", seat=1) in words(answer)
    assert "Olli Kokenut" in words(answer)  # the fresh card, with the seat as it now is
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: None}
    # From the fresh card the same choice is a decision taken knowingly, and it stands.
    fresh = {**button_data(answer, "case.assign"), "mediator_id": str(outi.id), "seat": "1"}
    done = await bank.teams.click("coord", "case.assign", fresh, thread=case.thread)
    assert not is_refusal(done)
    assert await bank.holders(case) == {1: "Outi Osaava", 2: None}


async def test_an_old_release_sent_again_after_the_seat_changed_hands_is_refused(
    bank: Bank,
) -> None:
    case = await bank.new_case()
    mine = await bank.claim("olli", case)  # Olli's answer: his card, with him in seat 1
    release = button_data(mine, "case.release")
    await bank.teams.click("olli", "case.release", release, thread=case.thread)
    await bank.claim("outi", case)  # seat 1 goes to Outi
    await bank.claim("olli", case)  # Olli comes back, to seat 2
    assert await bank.holders(case) == {1: "Outi Osaava", 2: "Olli Kokenut"}
    async with Unchanged(bank):
        answer = await bank.teams.click(
            "olli",
            "case.release",
            release,
            thread=case.thread,
            id="replayed-release",
            timestamp="2020-01-01T08:00:00Z",
            locale=LOCALES["fi"],
        )
    assert is_refusal(answer)
    assert t("en", "error.stale_seat", seat=2) in words(answer)
    assert await bank.holders(case) == {1: "Outi Osaava", 2: "Olli Kokenut"}


async def test_two_mediators_claim_the_two_seats_from_one_card(bank: Bank) -> None:
    case = await bank.new_case()
    claim = button_data(bank.channel_card(case), "case.claim")
    assert "shown" in claim
    first = await bank.teams.click("olli", "case.claim", claim, thread=case.thread)
    second = await bank.teams.click("outi", "case.claim", claim, thread=case.thread)
    assert not is_refusal(first) and not is_refusal(second), words(second)
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: "Outi Osaava"}
    assert await bank.status(case) == "paired"
    again = await bank.teams.click("outi", "case.claim", claim, thread=case.thread)
    assert t("en", "notice.already_holding", seat=2, code=case.code) in words(again)

    other = await bank.new_case()  # the same with the seats named, the second one first
    claim = button_data(bank.channel_card(other), "case.claim")
    for key, seat in (("outi", 2), ("olli", 1)):
        answer = await bank.teams.click(
            key, "case.claim", {**claim, "seat": seat}, thread=other.thread
        )
        assert not is_refusal(answer), words(answer)
    assert await bank.holders(other) == {1: "Olli Kokenut", 2: "Outi Osaava"}


async def test_closing_from_a_card_of_another_status_is_refused(bank: Bank) -> None:
    case = await bank.paired()
    stale = bank.channel_card(case)
    await bank.teams.click("olli", "case.release", {"case_id": case.case_id}, thread=case.thread)
    close = {**button_data(stale, "case.close"), "outcome": "agreement"}
    async with Unchanged(bank):
        answer = await bank.teams.click("coord", "case.close", close, thread=case.thread)
    assert t("en", "error.stale_status", status=t("en", "status.open")) in words(answer)
    assert await bank.status(case) == "open"


async def test_a_malformed_snapshot_is_refused_and_changes_nothing(bank: Bank) -> None:
    case = await bank.new_case()
    claim = {"case_id": case.case_id, "shown": {"version": "x", "status": "open"}}
    async with Unchanged(bank):
        answer = await bank.teams.click("olli", "case.claim", claim, thread=case.thread)
    assert is_refusal(answer)
    assert t("en", "field.shown") in words(answer)


async def test_an_old_claim_sent_again_after_its_seat_was_given_back_is_refused(
    bank: Bank,
) -> None:
    """The seat looks as the old card showed it (free), but it changed hands since."""
    case = await bank.new_case()
    claim = button_data(bank.channel_card(case), "case.claim")
    mine = await bank.teams.click("olli", "case.claim", claim, thread=case.thread)
    await bank.teams.click(
        "olli", "case.release", button_data(mine, "case.release"), thread=case.thread
    )
    assert await bank.holders(case) == {1: None, 2: None}
    async with Unchanged(bank):  # the first click again, under a new id and an old time
        answer = await bank.teams.click(
            "olli",
            "case.claim",
            claim,
            thread=case.thread,
            id="replayed-claim",
            timestamp="2020-01-01T08:00:00Z",
        )
    assert is_refusal(answer) and t("en", "error.stale_seat", seat=1) in words(answer)
    # The card it answers with is current: claiming from it is a decision taken knowingly.
    again = await bank.teams.click(
        "olli", "case.claim", button_data(answer, "case.claim"), thread=case.thread
    )
    assert not is_refusal(again)
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: None}


async def test_an_old_release_sent_again_after_the_seat_was_taken_back_is_refused(
    bank: Bank,
) -> None:
    case = await bank.new_case()
    mine = await bank.claim("olli", case)
    release = button_data(mine, "case.release")
    await bank.teams.click("olli", "case.release", release, thread=case.thread)
    await bank.claim("olli", case)  # back in seat 1: the seat looks as the old card showed
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: None}
    async with Unchanged(bank):
        answer = await bank.teams.click(
            "olli", "case.release", release, thread=case.thread, id="replayed-release"
        )
    assert is_refusal(answer) and t("en", "error.stale_seat", seat=1) in words(answer)


async def test_a_changing_button_without_its_snapshot_changes_nothing(bank: Bank) -> None:
    """Data made by hand, with the card's snapshot left out, is never taken as current."""
    case = await bank.new_case()
    await bank.claim("olli", case)
    outi = await bank.mediator("outi")
    tries = [
        ("outi", "case.claim", {}),  # (Olli's own claim again is "you hold it": idempotent)
        ("olli", "case.release", {}),
        ("coord", "case.assign", {"mediator_id": str(outi.id), "seat": "1"}),
        ("coord", "case.cancel", {"reason": ""}),
    ]
    for who, verb, extra in tries:
        async with Unchanged(bank):
            answer = await bank.teams.click(
                who, verb, {"case_id": case.case_id, "shown": None, **extra}, thread=case.thread
            )
        assert is_refusal(answer), verb
        assert t("en", "error.stale_card") in words(answer), verb
        assert "Olli Kokenut" in words(answer)  # the case as it is now
    # A version the case never had is no card's either.
    forged = {"version": 10**6, "status": "open", "holders": [None, None]}
    async with Unchanged(bank):
        answer = await bank.teams.click(
            "outi", "case.claim", {"case_id": case.case_id, "shown": forged}, thread=case.thread
        )
    assert t("en", "error.stale_card") in words(answer)
