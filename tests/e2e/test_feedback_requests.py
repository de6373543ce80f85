"""Closing a case: each mediator of the pair gets the feedback card and the client link once.

The whole way through the real app: the coordinator's click on /api/messages, the outbox,
the feedback job and the app's own sender posting through the CloudAdapter to the fake Bot
Connector. The scheduler is off in these tests, so the sender and the job are driven here.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from bot.bootstrap import SOPU
from bot.jobs_runtime import JobsRuntime
from cards import verbs
from cards.i18n import t
from jobs import feedback
from jobs.scheduler import JOBS as JOB_SPECS
from jobs.scheduler import run_job
from mediation.outbox import MessageKind, OutboxMessage, OutboxStatus
from tests.e2e.conftest import Bank, Posted, Unchanged, verbs_on, words


def _runtime(bank: Bank) -> JobsRuntime:
    runtime = bank.app[SOPU].jobs
    assert isinstance(runtime, JobsRuntime)
    return runtime


def _open_urls(card: dict[str, Any]) -> list[str]:
    return [a["url"] for a in card.get("actions", []) if a.get("type") == "Action.OpenUrl"]


def _requests_to(bank: Bank, key: str, case: Posted, after: int) -> tuple[list[Any], list[Any]]:
    """The case feedback cards and the client link cards in a person's chat since ``after``."""
    cards = [s.card for s in bank.personal(key, after) if s.card is not None]
    mine = [c for c in cards if t("en", "feedback.case.title", code=case.code) in words(c)]
    links = [c for c in cards if t("en", "feedback.client.title", code=case.code) in words(c)]
    return mine, links


FEEDBACK_KINDS = (MessageKind.MEDIATOR_FEEDBACK, MessageKind.CLIENT_LINK)


async def _feedback_messages(runtime: JobsRuntime) -> list[OutboxMessage]:
    return [m for m in await runtime.services.outbox.all() if m.key.kind in FEEDBACK_KINDS]


async def test_closing_a_case_sends_each_mediator_the_feedback_cards_once(bank: Bank) -> None:
    case = await bank.paired("olli", "outi")
    runtime = _runtime(bank)
    sent = len(bank.connector.log)
    close = {"case_id": case.case_id, "outcome": "agreement"}

    card = await bank.teams.click("coord", "case.close", close, thread=case.thread)
    assert t("en", "notice.closed", code=case.code, outcome=t("en", "outcome.agreement")) in words(
        card
    )
    # The close queued them in the outbox, which its sender empties at once.
    queued = await _feedback_messages(runtime)
    assert sorted((m.key.kind, m.key.recipient) for m in queued) == sorted(
        (kind, bank.teams.person(key).aad)
        for kind in (MessageKind.MEDIATOR_FEEDBACK, MessageKind.CLIENT_LINK)
        for key in ("olli", "outi")
    )

    # A second click on the closed case, and the job's own runs, add nothing.
    async with Unchanged(bank):
        again = await bank.teams.click("coord", "case.close", close, thread=case.thread)
    assert t("en", "notice.unchanged") in words(again)
    spec = next(j for j in JOB_SPECS if j.id == feedback.JOB_ID)
    context = runtime.services.context
    assert context is not None
    assert await run_job(context, spec) == 0
    assert await run_job(context, spec) == 0

    await runtime.sender.drain(timeout=20)
    await runtime.sender.drain(timeout=20)  # a second round finds nothing to send

    urls = set()
    for key in ("olli", "outi"):
        mine, links = _requests_to(bank, key, case, sent)
        assert len(mine) == 1 and len(links) == 1, (key, len(mine), len(links))
        assert verbs_on(mine[0]) == [verbs.FEEDBACK_CASE]
        send = next(a for a in mine[0]["actions"] if a.get("verb") == verbs.FEEDBACK_CASE)
        assert send["data"] == {"case_id": case.case_id}
        qr = [e for e in links[0]["body"] if e.get("type") == "Image"]
        assert len(qr) == 2 and all(q["url"].startswith("data:image/png;base64,") for q in qr)
        parents = _open_urls(links[0])
        assert len(set(parents)) == 2, "each parent has a link of their own"
        assert all("/feedback/" in url and url in words(links[0]) for url in parents)
        urls.add(tuple(parents))
    assert len(urls) == 1, "both mediators hand the parents the same two links"
    await _one_answer_each(bank, list(urls.pop()))
    coordinator = [s.card for s in bank.personal("coord", sent) if s.card is not None]
    assert not any(_open_urls(c) for c in coordinator)
    assert {m.status for m in await _feedback_messages(runtime)} == {OutboxStatus.SENT}

    # The feedback card works: a mediator answers from it.
    answer = {"case_id": case.case_id, "cf_package": "4", "cf_pair": "5"}
    saved = await bank.teams.click("olli", verbs.FEEDBACK_CASE, answer, where="personal")
    assert t("en", "feedback.saved") in words(saved)


async def _answer(bank: Bank, url: str) -> int:
    """A parent opens the form and sends it; the status of the answer to the send."""
    http = bank.teams.http
    path = url[url.index("/feedback/") :]
    async with http.get(f"{bank.teams.base}{path}") as resp:
        page = await resp.text()
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    if found is None:
        return resp.status
    data = {"nonce": html.unescape(found.group(1)), "felt_heard": "5", "recommend": "yes"}
    async with http.post(f"{bank.teams.base}{path}", data=data, allow_redirects=False) as resp:
        return resp.status


async def _one_answer_each(bank: Bank, urls: list[str]) -> None:
    """One parent answering twice cannot use up the other's link."""
    first, second = urls
    assert await _answer(bank, first) == 303
    assert await _answer(bank, first) != 303
    assert await _answer(bank, second) == 303
    assert await _answer(bank, second) != 303


async def test_the_feedback_job_catches_a_close_that_queued_nothing(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await bank.paired("olli", "outi")
    runtime = _runtime(bank)

    async def stopped(*args: object) -> int:
        raise RuntimeError("the process stopped right after the close's commit")

    with monkeypatch.context() as patch:
        patch.setattr(feedback, "for_case", stopped)
        close = {"case_id": case.case_id, "outcome": "no_agreement"}
        await bank.teams.click("coord", "case.close", close, thread=case.thread)
    assert await _feedback_messages(runtime) == []
    sent = len(bank.connector.log)

    context = runtime.services.context
    assert context is not None
    spec = next(j for j in JOB_SPECS if j.id == feedback.JOB_ID)
    assert await run_job(context, spec) == 4
    assert await run_job(context, spec) == 0
    await runtime.sender.drain(timeout=20)

    for key in ("olli", "outi"):
        mine, links = _requests_to(bank, key, case, sent)
        assert (len(mine), len(links)) == (1, 1), key
