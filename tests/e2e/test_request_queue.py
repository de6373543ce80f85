"""The coordinators' queue of contact requests, through the real app and the fake Bot Connector.

A parent posts the contact form; the outbox's sender brings the request's card to the
coordinator's personal chat (never the bank channel); the coordinator takes it, records
calls, judges it, and a suitable request becomes a case linked to it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import SOPU
from bot.jobs_runtime import JobsRuntime
from cards import verbs
from cards.i18n import t, tn
from cards.requests import QUEUE_SHOWN
from jobs import contact_requests, request_retention
from jobs.scheduler import JOBS, run_job
from mediation.outbox import MessageKind
from mediation.requests import RequestStatus
from storage.models import CaseRow
from storage.repositories.cases import SqlCaseRepository
from tests.e2e.conftest import CHANNEL, Bank, Unchanged, texts, verbs_on, words
from tests.e2e.test_contact_page import PARENT, _send
from tests.unit.request_samples import FORM, RECEIVED


def _runtime(bank: Bank) -> JobsRuntime:
    runtime = bank.app[SOPU].jobs
    assert isinstance(runtime, JobsRuntime)
    return runtime


def _data(card: dict[str, Any], verb: str) -> dict[str, Any]:
    found = [a for a in _actions(card) if a.get("verb") == verb]
    assert found, (verb, verbs_on(card))
    return dict(found[0]["data"])


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action of a card, those folded in a ShowCard too."""
    found = []
    for action in card.get("actions", []):
        found.append(action)
        if action.get("type") == "Action.ShowCard":
            found += _actions(action["card"])
    return found


def _inputs(card: dict[str, Any]) -> dict[str, Any]:
    """What Teams would send for the form as shown: each input's id and its value."""
    values: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "value" in node:
                values[node["id"]] = node["value"]
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(card.get("body", []))
    return values


async def _request(bank: Bank, **changes: Any) -> int:
    status, _url, _page = await _send(bank, {**PARENT, **changes})
    assert status == 200
    waiting = await bank.app[SOPU].requests.queue()
    return max(r.id for r in waiting)


async def test_a_request_reaches_the_coordinator_and_becomes_a_linked_case(bank: Bank) -> None:
    runtime = _runtime(bank)
    request_id = await _request(bank)
    sent = len(bank.connector.log)
    await runtime.sender.drain(timeout=20)

    (note,) = [s.card for s in bank.personal("coord", sent) if s.card is not None]
    assert t("en", "request.title", n=request_id) in words(note)
    assert "Maija Meikäläinen" in words(note) and "040 123 4567" in words(note)
    assert not [s for s in bank.connector.log[sent:] if s.conversation_id.startswith(CHANNEL)]
    for key in ("olli", "outi", "niina"):
        assert bank.personal(key, sent) == []

    # Only coordinators may read the queue.
    refusal = await bank.teams.ask("olli", "requests")
    assert t("en", "request.error.coordinators_only") in words(refusal)
    queue = await bank.teams.ask("coord", "requests")
    assert t("en", "requests.title") in words(queue) and "Kerava" in texts(queue)
    opened = await bank.teams.click(
        "coord", verbs.REQUEST_SHOW, {"request_id": str(request_id)}, where="personal"
    )
    assert t("en", "request.title", n=request_id) in words(opened)

    # "I'll call": the card says who calls; a double click changes nothing.
    take = _data(note, verbs.REQUEST_TAKE)
    taken = await bank.teams.click("coord", verbs.REQUEST_TAKE, take, where="personal")
    assert t("en", "request.notice.taken") in words(taken)
    assert t("en", "request.status.taken", name="Kaisa Koordinaattori") in words(taken)
    assert verbs.REQUEST_TAKE not in verbs_on(taken)
    again = await bank.teams.click("coord", verbs.REQUEST_TAKE, take, where="personal")
    assert t("en", "request.notice.unchanged") in words(again)

    # A mediator who is not a coordinator is refused by the registry, whatever the card says.
    stranger = await bank.teams.click("olli", verbs.REQUEST_ATTEMPT, take, where="personal")
    assert t("en", "request.error.coordinators_only") in words(stranger)

    # A call attempt counts once; the same click replayed gets the fresh card instead.
    attempt = _data(taken, verbs.REQUEST_ATTEMPT)
    called = await bank.teams.click("coord", verbs.REQUEST_ATTEMPT, attempt, where="personal")
    assert t("en", "request.notice.attempt") in words(called)
    replayed = await bank.teams.click("coord", verbs.REQUEST_ATTEMPT, attempt, where="personal")
    assert t("en", "request.error.stale") in words(replayed)
    stored = await bank.app[SOPU].requests.get(request_id)
    assert stored is not None and stored.attempts == 1 and stored.first_call_at is not None

    # Suitable: the intake form comes prefilled from the request.
    form = await bank.teams.click(
        "coord", verbs.REQUEST_SUITABLE, _data(called, verbs.REQUEST_SUITABLE), where="personal"
    )
    prefilled = _inputs(form)
    assert prefilled["parent1_name"] == "Maija Meikäläinen"
    assert prefilled["children"] == "2016, 2019" and prefilled["area"] == "Kerava"
    assert set(prefilled["topics"].split(",")) == {"residence", "contact"}
    submit = _data(form, verbs.REQUEST_CREATE_CASE)
    answers = {
        **prefilled,
        "referral_source": "self",
        "parent2_name": "Matti Meikäläinen",
        "parent2_phone": "050 765 4321",
        **submit,
    }
    before = len(bank.connector.log)
    posted = await bank.teams.click("coord", verbs.REQUEST_CREATE_CASE, answers, where="personal")
    channel = await bank.connector.wait_for(
        lambda s: s.kind == "create" and s.conversation_id.startswith(CHANNEL), after=before
    )
    assert channel.card is not None and "Maija" not in words(channel.card)
    linked = await bank.app[SOPU].requests.get(request_id)
    assert linked is not None and linked.status is RequestStatus.SUITABLE
    assert linked.case_id is not None
    uow = bank.app[SOPU].uow()
    async with uow:
        case = await uow.cases.get(linked.case_id)
    assert case is not None
    assert t("en", "request.notice.case_created", code=case.code, n=request_id) in words(posted)
    # Saved twice (a double click): still one case.
    twice = await bank.teams.click("coord", verbs.REQUEST_CREATE_CASE, answers, where="personal")
    assert t("en", "request.error.closed") in words(twice)
    assert await bank.app[SOPU].requests.queue() == []

    # The year's figures, from the queue card's button, for coordinators only.
    empty_queue = await bank.teams.ask("coord", "requests")
    year = _data(empty_queue, verbs.REQUEST_FIGURES)
    figures = await bank.teams.click("coord", verbs.REQUEST_FIGURES, year, where="personal")
    assert t("en", "figures.title", year=2026) in words(figures)
    assert t("en", "figures.suitable") in words(figures)
    refused = await bank.teams.click("olli", verbs.REQUEST_FIGURES, year, where="personal")
    assert t("en", "request.error.coordinators_only") in words(refused)


async def test_not_suitable_needs_a_reason_and_no_answer_needs_the_calls(bank: Bank) -> None:
    request_id = await _request(bank, parent_name="Liisa Laine")
    first = await bank.teams.click(
        "coord", verbs.REQUEST_SHOW, {"request_id": request_id}, where="personal"
    )
    assert verbs.REQUEST_NO_ANSWER not in verbs_on(first)
    judge = _data(first, verbs.REQUEST_NOT_SUITABLE)
    refused = await bank.teams.click("coord", verbs.REQUEST_NOT_SUITABLE, judge, where="personal")
    assert t("en", "request.problem.reason") in words(refused)
    assert t("en", "request.problem.referred_to") in words(refused)
    assert (await bank.app[SOPU].requests.get(request_id)).status is RequestStatus.NEW  # type: ignore[union-attr]

    # A call recorded from data without the version its card showed is no card's click.
    unversioned = {k: v for k, v in _data(first, verbs.REQUEST_ATTEMPT).items() if k != "version"}
    async with Unchanged(bank):
        stale = await bank.teams.click(
            "coord", verbs.REQUEST_ATTEMPT, unversioned, where="personal", id="no-version"
        )
    assert t("en", "request.error.stale") in words(stale)

    card = first
    limit = bank.app[SOPU].settings.front_door.max_attempts
    for _ in range(limit):
        card = await bank.teams.click(
            "coord", verbs.REQUEST_ATTEMPT, _data(card, verbs.REQUEST_ATTEMPT), where="personal"
        )
    assert t("en", "request.attempts", made=limit, limit=limit) in words(card)
    closed = await bank.teams.click(
        "coord", verbs.REQUEST_NO_ANSWER, _data(card, verbs.REQUEST_NO_ANSWER), where="personal"
    )
    assert t("en", "request.notice.no_answer") in words(closed) and not verbs_on(closed)

    other = await _request(bank, parent_name="Pekka Laine")
    shown = await bank.teams.click(
        "coord", verbs.REQUEST_SHOW, {"request_id": other}, where="personal"
    )
    choice = {
        **_data(shown, verbs.REQUEST_NOT_SUITABLE),
        "reason": "outside_area",
        "referred_to": "other_municipality",
    }
    judged = await bank.teams.click("coord", verbs.REQUEST_NOT_SUITABLE, choice, where="personal")
    assert t("en", "request.notice.not_suitable") in words(judged)
    stored = await bank.app[SOPU].requests.get(other)
    assert stored is not None and (stored.reason, stored.referred_to) == (
        "outside_area",
        "other_municipality",
    )
    assert await bank.app[SOPU].requests.queue() == []


async def test_untaken_requests_are_escalated_urgent_ones_at_once(bank: Bank) -> None:
    runtime = _runtime(bank)
    context = runtime.services.context
    spec = next(j for j in JOBS if j.id == contact_requests.JOB_ID)
    urgent = await _request(bank, fear="yes", parent_name="Anna Aalto")
    calm = await _request(bank, parent_name="Bertta Berg")

    def escalated() -> set[int]:
        return {
            int(m.payload["request_id"])
            for m in queued
            if m.key.kind is MessageKind.REQUEST_ESCALATION
        }

    sent = len(bank.connector.log)  # the app's sender sends each as soon as it is queued
    await run_job(context, spec)
    queued = await runtime.services.outbox.all()
    assert escalated() == {urgent}
    # Monday's request waits two working days: not yet on Tuesday, on Wednesday it goes.
    bank.clock.advance(days=1)
    await run_job(context, spec)
    queued = await runtime.services.outbox.all()
    assert escalated() == {urgent}
    bank.clock.advance(days=1)
    await run_job(context, spec)
    await run_job(context, spec)  # a second run adds nothing
    queued = await runtime.services.outbox.all()
    assert escalated() == {urgent, calm}
    assert len([m for m in queued if m.key.kind is MessageKind.REQUEST_ESCALATION]) == 2

    await runtime.sender.drain(timeout=20)
    notes = [s.card for s in bank.personal("coord", sent) if s.card is not None]
    joined = " ".join(words(c) for c in notes)
    assert t("en", "request.escalation_urgent", n=urgent) in joined
    assert t("en", "request.escalation", n=calm, days=2) in joined


async def test_the_other_parents_request_joins_the_case_and_retention_follows_it(
    bank: Bank,
) -> None:
    case = await bank.new_case()
    request_id = await _request(bank, parent_name="Matti Virtanen")
    shown = await bank.teams.click(
        "coord", verbs.REQUEST_SHOW, {"request_id": request_id}, where="personal"
    )
    assert case.code in str(shown)
    choice = {**_data(shown, verbs.REQUEST_SAME_FAMILY), "case_id": str(case.case_id)}
    joined = await bank.teams.click("coord", verbs.REQUEST_SAME_FAMILY, choice, where="personal")
    assert t("en", "request.notice.same_family") in words(joined)
    assert t("en", "request.status.case", code=case.code) in words(joined)
    stored = await bank.app[SOPU].requests.get(request_id)
    assert stored is not None and stored.case_id == case.case_id

    # A judged request that never became a case is erased once its time is up.
    other = await _request(bank, parent_name="Outi Ulkopuolinen")
    card = await bank.teams.click(
        "coord", verbs.REQUEST_SHOW, {"request_id": other}, where="personal"
    )
    judge = {
        **_data(card, verbs.REQUEST_NOT_SUITABLE),
        "reason": "outside_area",
        "referred_to": "other_municipality",
    }
    await bank.teams.click("coord", verbs.REQUEST_NOT_SUITABLE, judge, where="personal")
    context = _runtime(bank).services.context
    spec = next(j for j in JOBS if j.id == request_retention.JOB_ID)
    assert await run_job(context, spec) == 0
    bank.clock.advance(days=bank.app[SOPU].settings.front_door.retention_days + 1)
    assert await run_job(context, spec) == 1
    assert await bank.app[SOPU].requests.get(other) is None
    assert await bank.app[SOPU].requests.get(request_id) is not None  # its case is going on


async def test_one_request_saved_twice_at_once_makes_one_case(bank: Bank) -> None:
    """Two intake forms opened on one request and saved together: one case, one link.

    The link is made in the case's own transaction, so the form that loses the race makes
    no case at all (before, it made a second, unlinked case of the same family).
    """
    request_id = await _request(bank)
    await _runtime(bank).sender.drain(timeout=20)
    shown = await bank.teams.click(
        "coord", verbs.REQUEST_SHOW, {"request_id": str(request_id)}, where="personal"
    )
    taken = await bank.teams.click(
        "coord", verbs.REQUEST_TAKE, _data(shown, verbs.REQUEST_TAKE), where="personal"
    )
    called = await bank.teams.click(
        "coord", verbs.REQUEST_ATTEMPT, _data(taken, verbs.REQUEST_ATTEMPT), where="personal"
    )
    form = await bank.teams.click(
        "coord", verbs.REQUEST_SUITABLE, _data(called, verbs.REQUEST_SUITABLE), where="personal"
    )
    answers = {
        **_inputs(form),
        "referral_source": "self",
        "parent2_name": "Matti Meikäläinen",
        "parent2_phone": "050 765 4321",
        **_data(form, verbs.REQUEST_CREATE_CASE),
    }
    # The same form twice, as two open copies of it would send it: two different form ids.
    first, second = ({**answers, "form_id": f"{answers.get('form_id', 'f')}-{n}"} for n in (1, 2))
    cards_back = await asyncio.gather(
        bank.teams.click("coord", verbs.REQUEST_CREATE_CASE, first, where="personal"),
        bank.teams.click("coord", verbs.REQUEST_CREATE_CASE, second, where="personal"),
    )

    uow = bank.app[SOPU].uow()
    async with uow:
        cases = list((await uow.session.scalars(select(CaseRow.id))).all())
    linked = await bank.app[SOPU].requests.get(request_id)
    assert linked is not None and cases == [linked.case_id], [words(c)[:300] for c in cards_back]
    made = [c for c in cards_back if "registered" in words(c)]
    refused = [c for c in cards_back if c not in made]
    assert len(made) == 1 and len(refused) == 1, [words(c)[:200] for c in cards_back]
    assert t("en", "request.title", n=request_id) in words(refused[0])


async def test_the_queue_reads_only_the_requests_its_card_lists(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = bank.app[SOPU].requests
    count = QUEUE_SHOWN + 15
    for n in range(count):
        assert await store.add(FORM, RECEIVED + timedelta(minutes=n), f"flood-{n}") is not None
    reads: list[str] = []
    real_with_status = SqlCaseRepository.with_status

    async def with_status(self: SqlCaseRepository, statuses: Any) -> Any:
        reads.append("with_status")
        return await real_with_status(self, statuses)

    monkeypatch.setattr(SqlCaseRepository, "with_status", with_status)
    queue = await bank.teams.ask("coord", "requests")
    # The cases going on are offered only on a request's own card, never read for the list.
    assert reads == []
    listed = next(e for e in queue["body"] if e.get("id") == "request_id")["choices"]
    assert 0 < len(listed) <= QUEUE_SHOWN
    assert tn("en", "requests.more", count - len(listed)) in texts(queue)
