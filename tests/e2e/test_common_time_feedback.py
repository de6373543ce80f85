"""Feedback on a common time through HTTP: once the meeting is held, each attendee answers
once in personal chat, and the family answers anonymously on the public feedback page."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select

from cards.i18n import t
from mediation.services import common_time as ct_service
from storage.models_common_time_feedback import CommonTimeFamilyAnswerRow, CommonTimeFeedbackRow
from tests.e2e.conftest import Bank, Unchanged, verbs_on, words
from tests.e2e.test_common_time import (
    action_data,
    centre,  # noqa: F401 (the fixture)
    click,
    common_time_id,
    person_id,
)

FEEDBACK = "commontime.feedback"


async def held_common_time(bank: Bank) -> tuple[int, dict[str, Any]]:
    """A common time convened by the coordinator, Olli and Outi attending (Niina declined),
    held with Outi as the responsible worker; returns its id and the convener's card."""
    await click(
        bank,
        "coord",
        "commontime.convene",
        {
            "municipality": "Hyvinkää",
            "competences": "family_counselling,child_welfare",
            "consent_convene": "true",
        },
    )
    ct = await common_time_id(bank)
    olli, outi, niina = [await person_id(bank, k) for k in ("olli", "outi", "niina")]
    for competence, who in (("family_counselling", olli), ("child_welfare", niina)):
        invite = {"ct_id": ct, "competence": competence, f"person_{competence}": str(who)}
        await click(bank, "coord", "commontime.invite", invite)
    await click(bank, "olli", "commontime.accept", {"ct_id": ct})
    await click(bank, "niina", "commontime.decline", {"ct_id": ct})
    invite = {"ct_id": ct, "competence": "child_welfare", "person_child_welfare": str(outi)}
    await click(bank, "coord", "commontime.invite", invite)
    await click(bank, "outi", "commontime.accept", {"ct_id": ct})
    offered = await click(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    await click(bank, "coord", "commontime.book", action_data(offered, "commontime.book")[0])
    bank.clock.advance(days=3)
    held = await click(bank, "coord", "commontime.held", {"ct_id": ct, "responsible": str(outi)})
    return ct, held


def feedback_urls(card: dict[str, Any]) -> list[str]:
    """The feedback page's addresses a card shows."""
    return [line for line in words(card).splitlines() if "/feedback/" in line]


async def team_rows(bank: Bank) -> list[CommonTimeFeedbackRow]:
    async with bank.sopu.sessions() as session:
        return list((await session.scalars(select(CommonTimeFeedbackRow))).all())


async def family_rows(bank: Bank) -> list[CommonTimeFamilyAnswerRow]:
    async with bank.sopu.sessions() as session:
        return list((await session.scalars(select(CommonTimeFamilyAnswerRow))).all())


async def test_attendees_answer_once_and_strangers_and_forged_answers_change_nothing(
    centre: Bank,  # noqa: F811
) -> None:
    bank = centre
    before = len(bank.connector.log)
    ct, held = await held_common_time(bank)
    await bank.sopu.jobs.sender.settled()
    # Each attendee got the form in personal chat; Niina, who declined, did not.
    for key in ("coord", "olli", "outi"):
        forms = [
            s.card for s in bank.personal(key, before) if s.card and FEEDBACK in verbs_on(s.card)
        ]
        assert len(forms) == 1, key
        assert [d["ct_id"] for d in action_data(forms[0], FEEDBACK)] == [ct]
    assert not [
        s for s in bank.personal("niina", before) if s.card and FEEDBACK in verbs_on(s.card)
    ]
    # The convener's card holds the family's link and its QR code.
    (url,) = feedback_urls(held)
    assert "/feedback/" in url
    assert any(e.get("type") == "Image" for e in held["body"])

    answer = {"ct_id": ct, "useful": "4", "competences_present": "yes", "comment": "Hyvä kokous"}
    saved = await click(bank, "olli", FEEDBACK, answer)
    assert t("en", "ctfeedback.saved") in words(saved)
    assert FEEDBACK not in verbs_on(saved)
    (row,) = await team_rows(bank)
    assert (row.useful, row.competences_present, row.comment) == (4, True, "Hyvä kokous")

    # A second answer changes nothing and says so.
    async with Unchanged(bank):
        again = await click(bank, "olli", FEEDBACK, {**answer, "useful": "1"})
    assert t("en", "ctfeedback.already") in words(again)

    # Those who did not attend are refused: a declined invitee, a colleague with no part in
    # it, someone not in the registry.
    for key in ("niina", "nils", "stranger"):
        async with Unchanged(bank):
            refused = await click(bank, key, FEEDBACK, answer)
        assert t("en", "ctfeedback.saved") not in words(refused), key

    # Forged values are refused, and nothing is stored.
    for forged in (
        {"useful": "0"},
        {"useful": "6"},
        {"useful": "x"},
        {"useful": 10**30},
        {"useful": "9" * 400},
        {"useful": True},
        {"useful": ["5"]},
        {"useful": None},
        {"competences_present": "maybe"},
        {"competences_present": 1},
        {"comment": "a\x01b"},
        {"comment": "Lapsen hetu 131052-308T"},
        {"comment": "x" * 501},
        {"comment": {"text": "x"}},
        {"ct_id": "1; drop"},
        {"ct_id": 10**30},
    ):
        async with Unchanged(bank):
            card = await click(bank, "outi", FEEDBACK, {**answer, **forged})
        assert t("en", "ctfeedback.saved") not in words(card), forged
    # In a channel the form is refused too.
    async with Unchanged(bank):
        card = await bank.teams.click("outi", FEEDBACK, answer)
    assert t("en", "error.personal_data_only") in words(card)

    # Outi's real answer goes through after all that.
    await click(bank, "outi", FEEDBACK, {**answer, "useful": "5", "competences_present": "no"})
    assert len(await team_rows(bank)) == 2


async def _form(bank: Bank, path: str, lang: str) -> tuple[int, str]:
    async with bank.teams.http.get(f"{bank.teams.base}{path}", params={"lang": lang}) as resp:
        return resp.status, await resp.text()


async def _post(bank: Bank, path: str, data: dict[str, str]) -> tuple[int, str]:
    async with bank.teams.http.post(
        f"{bank.teams.base}{path}", data=data, allow_redirects=False
    ) as resp:
        return resp.status, await resp.text()


def _nonce(page: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    assert found
    return html.unescape(found.group(1))


async def test_the_family_answers_on_the_public_page_without_a_name(
    centre: Bank,  # noqa: F811
) -> None:
    bank = centre
    _, held = await held_common_time(bank)
    (url,) = feedback_urls(held)
    path = url[url.index("/feedback/") :]

    status, page = await _form(bank, path, "fi")
    assert status == 200
    assert html.escape(t("fi", "ctfbpage.q.useful")) in page
    assert t("fi", "fbpage.q.settled") not in page  # not the mediation's questions
    status, page = await _form(bank, path, "sv")
    assert status == 200 and html.escape(t("sv", "ctfbpage.title")) in page

    # An answer that does not fit is shown again and nothing is stored.
    nonce = _nonce(page)
    status, page = await _post(bank, path, {"nonce": nonce, "lang": "sv", "useful": "9"})
    assert status == 400
    status, page = await _post(
        bank, path, {"nonce": nonce, "lang": "sv", "good": "Min hetu är 131052-308T"}
    )
    assert status == 400 and html.escape(t("sv", "problem.identity_code")) in page
    assert await family_rows(bank) == []

    data = {"nonce": nonce, "lang": "en", "useful": "5", "heard": "4", "good": "Kiitos!"}
    status, _ = await _post(bank, path, data)
    assert status == 303
    # The same form again (a double click) takes no second answer.
    status, _ = await _post(bank, path, data)
    assert status == 303
    (row,) = await family_rows(bank)
    assert (row.useful, row.heard, row.good) == (5, 4, "Kiitos!")
    assert row.year == bank.clock.now().year
    status, page = await _form(bank, f"{path}/thanks", "en")
    assert html.escape(t("en", "ctfbpage.thanks.text")) in page

    # The link takes a few answers (the parents, an older child), then no more.
    for n in range(2):
        _, page = await _form(bank, path, "en")
        status, _ = await _post(bank, path, {"nonce": _nonce(page), "lang": "en", "heard": "3"})
        assert status == 303, n
    status, page = await _form(bank, path, "en")
    assert status == 410 and html.escape(t("en", "ctfbpage.used.title")) in page

    # The year's figures, for the coordinators' statistics.
    coordinator = bank.teams.person("coord").aad
    figures = await ct_service.feedback_figures(coordinator, bank.clock.now().year, bank.sopu.uow())
    assert figures.family_answers == 3 and figures.family_useful == 5.0
    assert figures.family_heard == round((4 + 3 + 3) / 3, 1)
    assert figures.team_answers == 0
