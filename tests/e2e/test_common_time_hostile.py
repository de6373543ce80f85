"""The common time's verbs and its family page under hostile and malformed input, over HTTP.

Every probe has a defined answer: a refusal card in the clicker's language (or a 4xx page
for the public form), nothing changed in the bank, nothing sent, no traceback and no
family text in the log. Never the "unexpected error" card.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, text, update

from cards.i18n import t
from mediation.model import Role
from storage.models import MediatorRow
from storage.models_common_time_feedback import CommonTimeFamilyAnswerRow
from tests.card_schema import size_problems
from tests.e2e.conftest import Bank, Unchanged, answer_card, texts, verbs_on, words
from tests.e2e.test_common_time import (
    ROOMS,
    action_data,
    centre,  # noqa: F401 (the fixture)
    click,
    common_time_id,
    held_common_time,
    person_id,
)

VERBS = [
    "commontime.show",
    "commontime.consent",
    "commontime.approve",
    "commontime.invite",
    "commontime.withdraw",
    "commontime.accept",
    "commontime.decline",
    "commontime.times",
    "commontime.book",
    "commontime.held",
    "commontime.plan",
    "commontime.plan_show",
    "commontime.mark",
    "commontime.close",
    "commontime.cancel",
    "commontime.feedback",
]
CANARY = "Kanarialintu"
UNEXPECTED = {t(lang, "error.unexpected") for lang in ("fi", "sv", "en")}


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def assert_clean(log: pytest.LogCaptureFixture, *secrets: str) -> None:
    """No traceback, no failure and none of the secrets anywhere in what was logged."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in log.records:
        line = formatter.format(record)
        assert record.levelno < logging.ERROR, line
        assert "Traceback" not in line, line
        for secret in secrets:
            assert secret.lower() not in line.lower(), line


def expected(card: dict[str, Any]) -> dict[str, Any]:
    shown = words(card)
    assert not any(u in shown for u in UNEXPECTED), shown
    return card


async def probe(
    bank: Bank, key: str, verb: str, data: Any, *, where: str = "personal", locale: str = "en-US"
) -> dict[str, Any]:
    """A click that must change nothing and be answered with a defined card; nested too
    deeply for the gate, it is refused there with a 400 (tests/e2e/test_hostile.py)."""
    activity = bank.teams.click_activity(key, verb, data, where=where, locale=locale)
    async with Unchanged(bank):
        status, body = await bank.teams.post(activity)
    if depth(data) > 20:
        assert status == 400, (status, body)
        return {}
    return expected(answer_card(status, body))


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def nested(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"x": "y"}
    for _ in range(levels):
        node = {"x": node}
    return node


HOSTILE_VALUES: list[Any] = [
    ["Hyvinkää"],
    nested(50),
    "x" * 100_000,
    "a\x01b",
    "\u202egnp.exe",
    12,
    1.5,
    True,
]


async def booked_common_time(bank: Bank) -> int:
    """Convened by the coordinator, Olli invited and accepting, the first time booked."""
    await click(
        bank,
        "coord",
        "commontime.convene",
        {"municipality": "Hyvinkää", "competences": "family_counselling", "consent_convene": "1"},
    )
    ct = await common_time_id(bank)
    olli = str(await person_id(bank, "olli"))
    invite = {"ct_id": ct, "competence": "family_counselling", "person_family_counselling": olli}
    await click(bank, "coord", "commontime.invite", invite)
    await click(bank, "olli", "commontime.accept", {"ct_id": ct})
    offered = await click(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    await click(bank, "coord", "commontime.book", action_data(offered, "commontime.book")[0])
    return ct


def plan_of(bank: Bank, ct: int, **extra: Any) -> dict[str, Any]:
    return {
        "ct_id": ct,
        "matters": "Mornings are hard",
        "action_1_place": "home",
        "action_1_what": "A picture timetable",
        "follow_up_how": "A meeting in a month",
        "family_reaches_worker": "By phone",
        "next_contact": (bank.clock.now() + timedelta(days=30)).date().isoformat(),
        **extra,
    }


# -- ids ---------------------------------------------------------------------------------------


async def test_unreadable_and_foreign_ids_point_at_no_common_time(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    ct = await held_common_time(bank, municipality=CANARY)
    # Nils convenes one of his own: he has no part in the other.
    await click(
        bank,
        "nils",
        "commontime.convene",
        {"municipality": "Kerava", "competences": "speech_therapy", "consent_convene": "1"},
    )
    for verb in VERBS:
        for bad in (None, "x", "1; drop", 1.5, True, [ct], {"id": ct}, 10**30, -1, ct + 1000):
            data = {"ct_id": bad} if bad is not None else {}
            card = await probe(bank, "olli", verb, data)
            assert CANARY not in texts(card), (verb, bad)
        card = await probe(bank, "nils", verb, {"ct_id": ct})
        assert CANARY not in texts(card), verb
    # The refusal speaks the clicker's language.
    card = await probe(bank, "olli", "commontime.show", {"ct_id": "x"}, locale="fi-FI")
    assert card["lang"] == "fi"
    assert_clean(log, CANARY)


# -- typed values --------------------------------------------------------------------------------


async def test_hostile_values_in_the_convening_form_are_refused(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    good = {"municipality": "Hyvinkää", "competences": "family_counselling", "consent_convene": "1"}
    unconsented = {**good, "consent_convene": "", "justification": "The child is at risk."}
    for field in ("municipality", "competences", "justification"):
        for bad in HOSTILE_VALUES:
            await probe(bank, "olli", "commontime.convene", {**unconsented, field: bad})
    for competences in ("astrology", "family_counselling,astrology", ["x"] * 1000, "a," * 1000):
        await probe(bank, "olli", "commontime.convene", {**good, "competences": competences})
    # Markup is kept as typed and shown as plain text.
    typed = "**Hyvinkää** <script>alert(1)</script> [x](http://evil)"
    card = expected(
        await click(bank, "olli", "commontime.convene", {**good, "municipality": typed})
    )
    assert "**Hyvinkää**" not in words(card) and "<script" not in words(card)
    assert_clean(log)


async def test_hostile_values_in_the_team_s_verbs_are_refused(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    await click(
        bank,
        "coord",
        "commontime.convene",
        {"municipality": "Hyvinkää", "competences": "family_counselling", "consent_convene": "1"},
    )
    ct = await common_time_id(bank)
    olli = await person_id(bank, "olli")
    for bad in HOSTILE_VALUES:
        for data in (
            {"competence": bad, "person_family_counselling": str(olli)},
            {"competence": "family_counselling", "person_family_counselling": bad},
            {"competence": "family_counselling", "person_id": bad},
            {"step": bad},
            {"kind": bad},
            {"person_id": bad},
        ):
            for verb in (
                "commontime.invite",
                "commontime.approve",
                "commontime.times",
                "commontime.withdraw",
            ):
                await probe(bank, "coord", verb, {"ct_id": ct, **data})
    for competence, who in (("astrology", olli), ("family_counselling", 10**30), ("", -1)):
        data = {"ct_id": ct, "competence": competence, "person_family_counselling": str(who)}
        await probe(bank, "coord", "commontime.invite", data)
    await probe(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "party"})
    assert_clean(log)


async def test_bookings_off_the_offered_times_are_refused(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    await click(
        bank,
        "coord",
        "commontime.convene",
        {"municipality": "Hyvinkää", "competences": "family_counselling", "consent_convene": "1"},
    )
    ct = await common_time_id(bank)
    olli = str(await person_id(bank, "olli"))
    invite = {"ct_id": ct, "competence": "family_counselling", "person_family_counselling": olli}
    await click(bank, "coord", "commontime.invite", invite)
    await click(bank, "olli", "commontime.accept", {"ct_id": ct})
    offered = await click(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    good = action_data(offered, "commontime.book")[0]
    now = bank.clock.now()
    for changed in (
        {"start": (now - timedelta(days=1)).isoformat()},
        {"start": (now + timedelta(days=2, minutes=7)).isoformat()},
        {"start": (now + timedelta(days=400)).isoformat()},
        {"start": "2026-03-10T10:00:00"},  # no timezone
        {"start": "2026-04-03T10:00:00+03:00"},  # Good Friday
        {"start": "2026-03-07T10:00:00+02:00"},  # a Saturday
        {"start": "9999-01-01T00:00:00+00:00"},
        {"start": ["2026-03-10T10:00:00+02:00"]},
        {"start": "x" * 100_000},
        {"room": "Kellari"},
        {"room": ROOMS[0] + "\x01"},
        {"room": [ROOMS[0]]},
        {"room": nested(50)},
        {"kind": "party"},
        {"kind": "follow_up"},
        {"kind": None},
    ):
        await probe(bank, "coord", "commontime.book", {**good, **changed})
    # Olli attends but does not book.
    await probe(bank, "olli", "commontime.book", good)
    assert_clean(log)


async def test_responsible_workers_are_public_service_workers_who_can_take_it(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    ct = await booked_common_time(bank)
    bank.clock.advance(days=3)
    outi, niina, sven = [await person_id(bank, k) for k in ("outi", "niina", "sven")]
    # Sven works for the parish, Niina has left, Nils only books rooms.
    async with bank.sopu.sessions() as session:
        await session.execute(
            update(MediatorRow).where(MediatorRow.id == sven).values(employer="Seurakunta")
        )
        await session.execute(
            update(MediatorRow).where(MediatorRow.id == niina).values(active=False)
        )
        await session.execute(
            update(MediatorRow)
            .where(MediatorRow.aad_object_id == bank.teams.person("nils").aad)
            .values(role=Role.BOOKER.value)
        )
        await session.commit()
    nils = await person_id(bank, "nils")
    for responsible in (
        str(sven),
        str(niina),
        str(nils),
        "999999",
        f"{outi},{outi}",
        f"{outi},{niina},{sven}",
        "",
        ["x"] * 1000,
        [str(outi)] * 11,
        nested(50),
        "x" * 100_000,
        str(10**30),
        "-1",
    ):
        await probe(bank, "coord", "commontime.held", {"ct_id": ct, "responsible": responsible})
    held = await click(bank, "coord", "commontime.held", {"ct_id": ct, "responsible": str(outi)})
    assert "commontime.plan" in verbs_on(held)
    assert_clean(log)


async def test_hostile_values_in_the_plan_are_refused_and_markup_stays_plain(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    ct = await held_common_time(bank)
    for field in (
        "matters",
        "action_1_what",
        "action_1_where",
        "action_1_place",
        "follow_up_how",
        "family_reaches_worker",
        "next_contact",
        "shared_with",
    ):
        for bad in HOSTILE_VALUES:
            await probe(bank, "coord", "commontime.plan", plan_of(bank, ct, **{field: bad}))
    for changed in (
        {"next_contact": "2020-01-01"},
        {"next_contact": "9999-12-31x"},
        {"action_1_place": "moon"},
        {"shared_with": "999999"},
        {"shared_with": ",".join(str(n) for n in range(1, 40))},
        {"shared_with": str(10**30)},
        {"matters": "Lapsen hetu 131052-308T"},
    ):
        await probe(bank, "coord", "commontime.plan", plan_of(bank, ct, **changed))
    # Olli attended but did not convene: he may not write the plan.
    await probe(bank, "olli", "commontime.plan", plan_of(bank, ct))
    typed = "**Aamut** <script>alert(1)</script>"
    saved = expected(
        await click(bank, "coord", "commontime.plan", plan_of(bank, ct, matters=typed))
    )
    assert "**Aamut**" not in words(saved) and "<script" not in words(saved)
    # Written twice: the second is refused.
    await probe(bank, "coord", "commontime.plan", plan_of(bank, ct, matters="Another plan"))
    outi = "outi"
    for index in (-1, 1, 2, 24, 10**30, "x", 1.5, None, [0]):
        await probe(bank, outi, "commontime.mark", {"ct_id": ct, "index": index, "done": True})
    for done in ("maybe", "", None, 2, ["true"], {"x": True}, nested(50)):
        await probe(bank, outi, "commontime.mark", {"ct_id": ct, "index": 0, "done": done})
    marked = await click(bank, outi, "commontime.mark", {"ct_id": ct, "index": 0, "done": "false"})
    assert t("en", "commontime.marked") in words(marked)
    assert_clean(log)


# -- stale cards and replays ---------------------------------------------------------------------


async def test_redelivered_and_stale_clicks_change_nothing(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    await click(
        bank,
        "coord",
        "commontime.convene",
        {
            "municipality": "Hyvinkää",
            "competences": "family_counselling",
            "consent_convene": "1",
            "consent_share_plan": "1",
        },
    )
    ct = await common_time_id(bank)
    olli, outi = [await person_id(bank, k) for k in ("olli", "outi")]
    invite = {"ct_id": ct, "competence": "family_counselling", "person_family_counselling": olli}
    await bank.teams.click("coord", "commontime.invite", invite, "personal", id="invite-1")
    async with Unchanged(bank):  # Teams sends the same click again
        status, _ = await bank.teams.post(
            bank.teams.click_activity(
                "coord", "commontime.invite", invite, "personal", id="invite-1"
            )
        )
    assert status == 200
    # Olli is withdrawn, then answers from the card he had.
    await click(bank, "coord", "commontime.withdraw", {"ct_id": ct, "person_id": olli})
    await probe(bank, "olli", "commontime.accept", {"ct_id": ct})
    invite["person_family_counselling"] = outi
    await click(bank, "coord", "commontime.invite", invite)
    await click(bank, "outi", "commontime.accept", {"ct_id": ct})
    offered = await click(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    options = action_data(offered, "commontime.book")
    await click(bank, "coord", "commontime.book", options[0])
    # Another offered time, from the same card; inviting after the booking.
    await probe(bank, "coord", "commontime.book", options[1])
    await probe(
        bank,
        "coord",
        "commontime.invite",
        {"ct_id": ct, "competence": "family_counselling", "person_family_counselling": olli},
    )
    bank.clock.advance(days=3)
    await click(bank, "coord", "commontime.held", {"ct_id": ct, "responsible": str(outi)})
    await probe(bank, "coord", "commontime.held", {"ct_id": ct, "responsible": str(outi)})
    plan = plan_of(bank, ct)
    await bank.teams.click("coord", "commontime.plan", plan, "personal", id="plan-1")
    async with Unchanged(bank):
        status, _ = await bank.teams.post(
            bank.teams.click_activity("coord", "commontime.plan", plan, "personal", id="plan-1")
        )
    assert status == 200
    await click(bank, "outi", "commontime.mark", {"ct_id": ct, "index": 0, "done": True})
    await click(bank, "outi", "commontime.close", {"ct_id": ct})
    await probe(bank, "outi", "commontime.mark", {"ct_id": ct, "index": 0, "done": False})
    await probe(bank, "outi", "commontime.close", {"ct_id": ct})
    await probe(bank, "coord", "commontime.cancel", {"ct_id": ct})
    assert_clean(log)


async def test_booking_after_a_cancel_is_refused(
    centre: Bank,  # noqa: F811
) -> None:
    bank = centre
    await click(
        bank,
        "coord",
        "commontime.convene",
        {"municipality": "Hyvinkää", "competences": "family_counselling", "consent_convene": "1"},
    )
    ct = await common_time_id(bank)
    olli = str(await person_id(bank, "olli"))
    invite = {"ct_id": ct, "competence": "family_counselling", "person_family_counselling": olli}
    await click(bank, "coord", "commontime.invite", invite)
    await click(bank, "olli", "commontime.accept", {"ct_id": ct})
    offered = await click(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    await click(bank, "coord", "commontime.cancel", {"ct_id": ct})
    await probe(bank, "coord", "commontime.book", action_data(offered, "commontime.book")[0])
    await probe(bank, "olli", "commontime.decline", {"ct_id": ct})
    await probe(bank, "coord", "commontime.invite", invite)


# -- who may see what ----------------------------------------------------------------------------


async def test_outsiders_never_see_the_plan_or_the_justification(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    await bank.add_mediators(1, prefix="coordb")
    async with bank.sopu.sessions() as session:
        await session.execute(
            update(MediatorRow)
            .where(MediatorRow.aad_object_id == bank.teams.person("coordb1").aad)
            .values(role=Role.COORDINATOR.value)
        )
        await session.execute(
            update(MediatorRow)
            .where(MediatorRow.aad_object_id == bank.teams.person("sven").aad)
            .values(active=False)
        )
        await session.execute(
            update(MediatorRow)
            .where(MediatorRow.aad_object_id == bank.teams.person("nils").aad)
            .values(role=Role.BOOKER.value)
        )
        await session.commit()
    secret_why = f"Perustelu {CANARY}"
    await click(
        bank,
        "olli",
        "commontime.convene",
        {"municipality": "Hyvinkää", "competences": "child_welfare", "justification": secret_why},
    )
    ct = await common_time_id(bank)
    shown = await click(bank, "coord", "commontime.show", {"ct_id": ct})
    assert secret_why in words(shown)  # a coordinator sees the exception to approve it
    await click(bank, "coord", "commontime.approve", {"ct_id": ct, "step": "convene"})
    outi = str(await person_id(bank, "outi"))
    invite = {"ct_id": ct, "competence": "child_welfare", "person_child_welfare": outi}
    await click(bank, "olli", "commontime.invite", invite)
    await click(bank, "outi", "commontime.accept", {"ct_id": ct})
    offered = await click(bank, "olli", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    await click(bank, "olli", "commontime.book", action_data(offered, "commontime.book")[0])
    bank.clock.advance(days=3)
    await click(bank, "olli", "commontime.held", {"ct_id": ct, "responsible": outi})
    secret_plan = f"Suunnitelma {CANARY}"
    await click(bank, "olli", "commontime.plan", plan_of(bank, ct, matters=secret_plan))
    for key in ("stranger", "sven", "nils", "niina"):
        for verb in ("commontime.show", "commontime.plan_show", "commontime.list"):
            card = await probe(bank, key, verb, {"ct_id": ct})
            assert CANARY not in texts(card), (key, verb)
    # A coordinator with no part sees the common time, not the plan.
    for key in ("coord", "coordb1"):
        card = await probe(bank, key, "commontime.plan_show", {"ct_id": ct})
        assert secret_plan not in texts(card), key
        async with Unchanged(bank):
            card = await click(bank, key, "commontime.show", {"ct_id": ct})
        assert secret_plan not in texts(card), key
    # In a channel nothing is shown, even to those who may read the plan.
    for key in ("olli", "outi", "coord"):
        for verb in VERBS:
            card = await probe(bank, key, verb, {"ct_id": ct}, where="channel")
            assert t("en", "error.personal_data_only") in words(card)
            assert CANARY not in texts(card) and "Hyvinkää" not in texts(card)
    assert_clean(log, CANARY)


async def test_lone_surrogates_never_reach_a_handler(centre: Bank) -> None:  # noqa: F811
    bank = centre
    activity = bank.teams.click_activity(
        "olli",
        "commontime.convene",
        {"municipality": "@@", "competences": "family_counselling", "consent_convene": "1"},
        "personal",
    )
    raw = json.dumps(activity).replace('"@@"', '"Hyvink\\ud800"').encode()
    async with Unchanged(bank):
        status, _ = await bank.teams.post(raw=raw)
    assert status == 400


# -- the family's page ---------------------------------------------------------------------------


async def _get(bank: Bank, path: str) -> tuple[int, str]:
    async with bank.teams.http.get(f"{bank.teams.base}{path}", params={"lang": "fi"}) as resp:
        return resp.status, await resp.text()


async def _post(
    bank: Bank, path: str, body: bytes, content_type: str = "application/x-www-form-urlencoded"
) -> tuple[int, str]:
    async with bank.teams.http.post(
        f"{bank.teams.base}{path}?lang=fi",
        data=body,
        headers={"Content-Type": content_type},
        allow_redirects=False,
    ) as resp:
        return resp.status, await resp.text()


async def answers(bank: Bank) -> list[CommonTimeFamilyAnswerRow]:
    async with bank.sopu.sessions() as session:
        return list((await session.scalars(select(CommonTimeFamilyAnswerRow))).all())


async def test_the_family_page_refuses_forged_expired_and_used_links(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    ct = await held_common_time(bank)
    card = await click(bank, "coord", "commontime.show", {"ct_id": ct})
    (url,) = [line for line in words(card).splitlines() if "/feedback/" in line]
    path = url[url.index("/feedback/") :]
    token = path.removeprefix("/feedback/")
    status, page = await _get(bank, path)
    assert status == 200
    nonce = html.unescape(re.findall(r'name="nonce" value="([^"]+)"', page)[0])

    def body(**extra: str) -> bytes:
        return urlencode({"nonce": nonce, "lang": "fi", "useful": "4", **extra}).encode()

    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, "x", token + "x", "%00", "..%2F..%2Fetc", "a" * 300):
        status, _ = await _get(bank, f"/feedback/{bad}")
        assert status in (404, 410) or status == 400, bad
        status, _ = await _post(bank, f"/feedback/{bad}", body())
        assert status in (400, 404, 410), bad
    for content_type in ("application/json", "text/plain", "multipart/form-data; boundary=x"):
        status, _ = await _post(bank, path, body(), content_type)
        assert status == 400, content_type
    status, _ = await _post(bank, path, body(good="a" * 40_000))
    assert status == 413
    for extra in ({"useful": "9"}, {"good": "a\x01b"}, {"good": "x" * 5000}, {"heard": "-1"}):
        status, _ = await _post(bank, path, body(**extra))
        assert status == 400, extra
    status, _ = await _post(bank, path, body() + b"&useful=5")  # a field twice
    assert status == 400
    assert await answers(bank) == []

    # Used up: the link takes a few answers, then none.
    for n in range(3):
        _, page = await _get(bank, path)
        fresh = html.unescape(re.findall(r'name="nonce" value="([^"]+)"', page)[0])
        status, _ = await _post(bank, path, f"nonce={fresh}&lang=fi&useful={n + 3}".encode())
        assert status == 303, n
    status, _ = await _post(bank, path, body(useful="1"))
    assert status == 410
    assert len(await answers(bank)) == 3

    # Expired: another common time's link, after its days are gone.
    ct2 = await held_common_time(bank, municipality="Kerava")
    card = await click(bank, "coord", "commontime.show", {"ct_id": ct2})
    (url2,) = [line for line in words(card).splitlines() if "/feedback/" in line]
    path2 = url2[url2.index("/feedback/") :]
    _, page = await _get(bank, path2)
    nonce = html.unescape(re.findall(r'name="nonce" value="([^"]+)"', page)[0])
    bank.clock.advance(days=400)
    status, page = await _get(bank, path2)
    assert status == 410
    status, _ = await _post(bank, path2, body())
    assert status == 410
    assert len(await answers(bank)) == 3
    assert_clean(log)


# -- logs --------------------------------------------------------------------------------------

REFUSED = "Pakkovirhe"


async def refuse_plans_in_database(bank: Bank) -> None:
    """A trigger that makes the plan's update fail mid-turn when its text carries REFUSED."""
    async with bank.sopu.sessions() as session:
        await session.execute(
            text(
                "CREATE TRIGGER no_refused BEFORE UPDATE ON common_time "
                f"WHEN NEW.plan_matters LIKE '%{REFUSED}%' "
                "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
            )
        )
        await session.commit()


async def test_no_typed_text_of_a_common_time_reaches_the_log(
    centre: Bank,  # noqa: F811
    log: pytest.LogCaptureFixture,
) -> None:
    bank = centre
    await refuse_plans_in_database(bank)
    await click(
        bank,
        "olli",
        "commontime.convene",
        {
            "municipality": f"Kunta {CANARY}",
            "competences": "child_welfare",
            "justification": f"Perustelu {CANARY}",
        },
    )
    ct = await common_time_id(bank)
    await click(bank, "coord", "commontime.approve", {"ct_id": ct, "step": "convene"})
    outi = str(await person_id(bank, "outi"))
    invite = {"ct_id": ct, "competence": "child_welfare", "person_child_welfare": outi}
    await click(bank, "olli", "commontime.invite", invite)
    await click(bank, "outi", "commontime.accept", {"ct_id": ct})
    offered = await click(bank, "olli", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    await click(bank, "olli", "commontime.book", action_data(offered, "commontime.book")[0])
    bank.clock.advance(days=3)
    held = await click(bank, "olli", "commontime.held", {"ct_id": ct, "responsible": outi})
    fields = (
        "matters",
        "action_1_what",
        "action_1_where",
        "follow_up_how",
        "family_reaches_worker",
    )
    canaried = plan_of(bank, ct, action_1_place="elsewhere")
    canaried |= {f: f"{canaried.get(f) or 'Perhekeskus'} {CANARY}" for f in fields}
    # Refused for a character, for an identity code, then failing inside the database.
    await probe(bank, "olli", "commontime.plan", {**canaried, "matters": f"{CANARY}\x01"})
    await probe(bank, "olli", "commontime.plan", {**canaried, "matters": f"{CANARY} 131052-308T"})
    async with Unchanged(bank):
        failed = await click(
            bank, "olli", "commontime.plan", {**canaried, "matters": f"{REFUSED} {CANARY}"}
        )
    assert any(u in words(failed) for u in UNEXPECTED)
    assert any(r.levelno >= logging.ERROR for r in log.records), "the failure is logged"
    saved = await click(bank, "olli", "commontime.plan", canaried)
    assert CANARY in words(saved)
    await click(bank, "outi", "commontime.plan_show", {"ct_id": ct})
    answer = {"ct_id": ct, "useful": "4", "competences_present": "yes", "comment": CANARY}
    await click(bank, "outi", "commontime.feedback", answer)
    await probe(bank, "olli", "commontime.feedback", {**answer, "comment": f"{CANARY}\x01"})
    (url,) = [line for line in words(held).splitlines() if "/feedback/" in line]
    path = url[url.index("/feedback/") :]
    _, page = await _get(bank, path)
    nonce = html.unescape(re.findall(r'name="nonce" value="([^"]+)"', page)[0])
    for good in (f"{CANARY}\x01", f"{CANARY} 131052-308T", CANARY):
        body = urlencode({"nonce": nonce, "lang": "fi", "useful": "4", "good": good}).encode()
        await _post(bank, path, body)
    await bank.sopu.jobs.sender.settled()
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    leaks = [
        line
        for line in (formatter.format(r) for r in log.records)
        if CANARY.lower() in line.lower() or REFUSED.lower() in line.lower()
    ]
    assert not leaks, leaks[:3]


@pytest.mark.parametrize("fill", ["ä", "\U0001f600", "\x01"])
async def test_a_plan_typed_to_every_limit_is_answered_within_one_teams_message(
    centre: Bank,  # noqa: F811 (the fixture)
    fill: str,
) -> None:
    """Fifteen fields of a thousand characters each, in letters that take two to four bytes:
    the answer, refused or saved, is one card Teams takes (the harness checks its size)."""
    bank = centre
    ct = await held_common_time(bank)
    typed: dict[str, str] = dict.fromkeys(
        ("matters", "follow_up_how", "family_reaches_worker"), fill * 1000
    )
    for n in range(1, 7):
        typed |= {f"action_{n}_what": fill * 1000, f"action_{n}_where": fill * 1000}
        typed[f"action_{n}_place"] = "home"
    for next_contact in ("2200-01-01", None):  # refused (the date), then saved if it can be
        data = plan_of(
            bank, ct, **typed, **({"next_contact": next_contact} if next_contact else {})
        )
        card = await bank.teams.click("coord", "commontime.plan", data, where="personal")
        assert size_problems(card) == [], fill
    shown = await bank.teams.click("olli", "commontime.show", {"ct_id": ct}, where="personal")
    assert size_problems(shown) == []
