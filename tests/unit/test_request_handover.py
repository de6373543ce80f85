"""A taken request can be handed over, a family left uncalled is escalated, and a request
becomes a case only once judged suitable."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.settings import Settings, SettingsError
from cards import verbs
from cards.i18n import LANGS, Lang, t
from cards.requests import RequestView, request_card, request_intake_form
from mediation import requests as rq
from mediation.model import Role
from mediation.outbox import MessageKind
from mediation.request_queue import (
    ATTEMPT,
    TAKE,
    TAKE_OVER,
    RequestAction,
    act_on_request,
    begin_case,
    escalation_messages,
)
from mediation.requests import ContactRequest, FrontDoorPolicy, RequestStatus
from tests.card_schema import assert_valid_card
from tests.clock import FixedClock
from tests.fakes.memory_uow import MemoryUnitOfWork
from tests.unit.factories import mediator
from tests.unit.request_samples import RECEIVED, sample

POLICY = FrontDoorPolicy()
MONDAY = date(2026, 3, 2)
ZONE = ZoneInfo("Europe/Helsinki")
LATER = RECEIVED + timedelta(hours=2)


def no_holidays(day: date) -> bool:
    return False


def local(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


# -- the rules --------------------------------------------------------------------------------


def test_another_coordinator_takes_a_request_over_from_its_holder() -> None:
    taken = rq.take(sample(), 1, RECEIVED)
    with pytest.raises(rq.TakenByAnother):
        rq.record_attempt(taken, 2, LATER)
    over = rq.take_over(taken, 2, LATER)
    assert (over.status, over.taken_by, over.taken_at) == (RequestStatus.TAKEN, 2, LATER)
    assert rq.record_attempt(over, 2, LATER).attempts == 1


def test_taking_over_what_is_untaken_or_your_own_is_taking_it() -> None:
    assert rq.take_over(sample(), 2, LATER) == rq.take(sample(), 2, LATER)
    mine = rq.take(sample(), 2, RECEIVED)
    assert rq.take_over(mine, 2, LATER) == mine


@pytest.mark.parametrize(
    "status", [RequestStatus.SUITABLE, RequestStatus.NOT_SUITABLE, RequestStatus.NO_ANSWER]
)
def test_a_judged_request_is_not_taken_over(status: RequestStatus) -> None:
    with pytest.raises(rq.RequestClosed):
        rq.take_over(sample(status=status, taken_by=1), 2, LATER)


def test_the_wait_for_a_call_runs_from_arrival_or_taking_until_a_call_is_recorded() -> None:
    assert rq.waiting_since(sample()) == RECEIVED
    taken = rq.take(sample(), 1, LATER)
    assert rq.waiting_since(taken) == LATER
    assert rq.waiting_since(rq.record_attempt(taken, 1, LATER)) is None
    assert rq.waiting_since(rq.judge_suitable(taken, 1, LATER)) is None


def test_an_uncalled_request_is_overdue_after_two_working_days_an_urgent_one_at_once() -> None:
    friday = datetime(2026, 3, 6, 9, 0, tzinfo=ZONE)
    taken = rq.take(sample(created_at=friday), 1, friday)

    def overdue(request: ContactRequest, day: date) -> bool:
        return rq.is_overdue(request, day, POLICY, no_holidays, local)

    assert not overdue(taken, date(2026, 3, 9))  # Monday: one working day
    assert overdue(taken, date(2026, 3, 10))  # Tuesday: two
    urgent = dataclasses.replace(taken, form=dataclasses.replace(taken.form, violence_or_fear=True))
    assert overdue(urgent, friday.date())
    assert not overdue(rq.record_attempt(urgent, 1, friday), date(2026, 3, 20))


def test_a_taken_request_left_uncalled_is_escalated_once_per_taker() -> None:
    people = [
        mediator("Kaisa", role=Role.COORDINATOR, id=1),
        mediator("Kalle", role=Role.COORDINATOR, id=2),
    ]
    taken = rq.take(sample(1), 1, RECEIVED)
    urgent = rq.take(sample(2, violence_or_fear=True), 1, RECEIVED)
    called = rq.record_attempt(rq.take(sample(3), 1, RECEIVED), 1, RECEIVED)

    def due(day: date, requests: list[ContactRequest]) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for m in escalation_messages(day, requests, people, POLICY, no_holidays, local):
            assert m.key.kind is MessageKind.REQUEST_ESCALATION
            found.setdefault(int(m.payload["request_id"]), set()).add(m.key.period)
        return found

    assert due(MONDAY, [taken, urgent, called]) == {2: {"taken1-urgent"}}
    assert due(MONDAY + timedelta(days=2), [taken, urgent, called]) == {
        1: {"taken1-wd2"},
        2: {"taken1-urgent"},
    }
    # Taken over, the request's wait starts again for its new taker.
    over = rq.take_over(taken, 2, datetime(2026, 3, 4, 9, 0, tzinfo=ZONE))
    assert due(date(2026, 3, 5), [over]) == {}
    assert due(date(2026, 3, 6), [over]) == {1: {"taken2-wd2"}}


def test_a_request_becomes_a_case_only_once_judged_suitable() -> None:
    for request in (sample(), rq.take(sample(), 1, RECEIVED)):
        with pytest.raises(rq.NotJudgedYet):
            rq.require_suitable(request)
    with pytest.raises(rq.RequestClosed):
        rq.require_suitable(sample(status=RequestStatus.NO_ANSWER))
    rq.require_suitable(rq.judge_suitable(sample(), 1, RECEIVED))


def test_english_goes_to_the_intake_as_another_language_with_an_interpreter() -> None:
    values = rq.intake_values(sample(language="en"))
    assert (values["language"], values["interpreter"]) == ("other", True)
    for lang in LANGS:
        form = request_intake_form(lang, 7, values, family_language="en")
        assert_valid_card(form)
        assert t(lang, "request.intake_english") in str(form)
        assert t(lang, "request.intake_english") not in str(request_intake_form(lang, 7, values))


# -- the card ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_card_offers_take_over_to_anyone_but_the_holder(lang: Lang) -> None:
    taken = rq.take(sample(), 1, RECEIVED)

    def verbs_for(viewer: int | None) -> set[str]:
        card = request_card(RequestView(taken, {1: "Kaisa"}, ZONE, 3, viewer=viewer), lang)
        assert_valid_card(card)
        return {a.get("verb") for a in card["actions"]}

    assert verbs.REQUEST_TAKE_OVER in verbs_for(2)
    assert verbs.REQUEST_TAKE_OVER in verbs_for(None)
    assert verbs.REQUEST_TAKE_OVER not in verbs_for(1)
    new = request_card(RequestView(sample(), {}, ZONE, 3, viewer=2), lang)
    assert verbs.REQUEST_TAKE_OVER not in {a.get("verb") for a in new["actions"]}


# -- the use case, on the unit of work -----------------------------------------------------------


class MemoryRequests:
    """The request store over the memory unit of work's committed requests."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    async def get(self, request_id: int) -> ContactRequest | None:
        found = self.uow.store.requests.get(request_id)
        return dataclasses.replace(found[1], version=found[0]) if found else None

    async def save(self, request: ContactRequest, expected_version: int) -> bool:
        version, _ = self.uow.store.requests[request.id]
        if version != expected_version:
            return False
        self.uow.store.requests[request.id] = (version + 1, request)
        return True


async def test_a_take_over_is_stored_and_the_holder_told_in_one_transaction() -> None:
    uow, clock = MemoryUnitOfWork(), FixedClock()
    async with uow:
        kaisa = await uow.mediators.add(mediator("Kaisa", role=Role.COORDINATOR))
        kalle = await uow.mediators.add(mediator("Kalle", role=Role.COORDINATOR))
        await uow.commit()
    uow.store.requests[7] = (1, sample())
    store = MemoryRequests(uow)

    async def act(who: str, action: str, version: int | None) -> ContactRequest:
        cmd = RequestAction(who, 7, action, version)
        return (await act_on_request(cmd, uow, store, clock, POLICY)).request  # type: ignore[arg-type]

    taken = await act(kaisa.aad_object_id, TAKE, 1)
    with pytest.raises(rq.TakenByAnother):
        await act(kalle.aad_object_id, ATTEMPT, taken.version)
    over = await act(kalle.aad_object_id, TAKE_OVER, taken.version)
    assert (over.taken_by, over.taken_at, over.version) == (kalle.id, clock.now(), 3)
    [told] = uow.store.outbox.values()
    assert told.key.kind is MessageKind.REQUEST_TAKEN_OVER
    assert told.key.recipient == kaisa.aad_object_id.lower()
    assert told.payload == {"request_id": 7, "urgent": False, "by": kalle.id}
    # A second click on the same card changes nothing and tells nobody again.
    assert await act(kalle.aad_object_id, TAKE_OVER, taken.version) == over
    assert len(uow.store.outbox) == 1
    assert (await act(kalle.aad_object_id, ATTEMPT, over.version)).attempts == 1
    with pytest.raises(rq.NotJudgedYet):
        await begin_case(kalle.aad_object_id, 7, uow, store)  # type: ignore[arg-type]


def test_an_urgent_request_just_taken_has_its_grace_period_before_it_escalates() -> None:
    urgent = sample(violence_or_fear=True)
    today = RECEIVED.date()

    def overdue(request: ContactRequest, now: datetime) -> bool:
        return not rq.in_taken_grace(request, now, POLICY) and rq.is_overdue(
            request, today, POLICY, no_holidays, local
        )

    assert overdue(urgent, RECEIVED)  # nobody has taken it: at once
    taken = rq.take(urgent, 1, RECEIVED)
    assert POLICY.urgent_taken_grace == timedelta(hours=2)
    assert not overdue(taken, RECEIVED + timedelta(minutes=15))
    assert not overdue(taken, RECEIVED + timedelta(hours=2) - timedelta(seconds=1))
    assert overdue(taken, RECEIVED + timedelta(hours=2))  # its taker recorded no call
    assert not overdue(rq.record_attempt(taken, 1, RECEIVED), RECEIVED + timedelta(hours=3))
    # Taken over, the grace starts again for the new taker.
    over = rq.take_over(taken, 2, RECEIVED + timedelta(hours=3))
    assert not overdue(over, RECEIVED + timedelta(hours=4))
    # Other requests keep their working days; no grace counts for them.
    calm = rq.take(sample(), 1, RECEIVED)
    assert not rq.in_taken_grace(calm, RECEIVED, POLICY)
    # Without a grace period, a taken urgent request escalates at once as before.
    none = FrontDoorPolicy(urgent_taken_grace=timedelta(0))
    assert not rq.in_taken_grace(taken, RECEIVED, none)
    with pytest.raises(ValueError, match="grace"):
        FrontDoorPolicy(urgent_taken_grace=timedelta(minutes=-1))


def test_the_grace_period_is_a_setting_in_minutes() -> None:
    assert Settings.from_env({}, dotenv=None).front_door.urgent_taken_grace == timedelta(hours=2)
    env = {"SOPU_REQUEST_URGENT_GRACE_MINUTES": "30"}
    assert Settings.from_env(env, dotenv=None).front_door.urgent_taken_grace == timedelta(
        minutes=30
    )
    for wrong in ("-1", "two hours"):
        with pytest.raises(SettingsError, match="SOPU_REQUEST_URGENT_GRACE_MINUTES"):
            Settings.from_env({"SOPU_REQUEST_URGENT_GRACE_MINUTES": wrong}, dotenv=None)
