"""Contact requests: the form's rules, the queue's rules, and what goes to the coordinators."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from cards import verbs
from cards.i18n import LANGS, Lang, t
from cards.requests import (
    RequestView,
    figures_card,
    queue_card,
    request_card,
    request_intake_form,
)
from mediation import errors, services
from mediation import requests as rq
from mediation.model import AwayPeriod, Role
from mediation.outbox import MessageKind
from mediation.policy import BankPolicy
from mediation.request_queue import announce_messages, escalation_messages
from mediation.requests import FrontDoorPolicy, RequestStatus
from tests.card_schema import assert_valid_card
from tests.clock import FixedClock
from tests.fakes.memory_uow import MemoryUnitOfWork
from tests.unit.factories import FORM, mediator
from tests.unit.request_samples import RECEIVED, sample

TODAY = date(2026, 3, 2)
POLICY = FrontDoorPolicy()
ANSWERS = {
    "parent_name": "  Maija   Meikäläinen ",
    "phone": "040 123 4567",
    "email": "",
    "call_times": "morning,afternoon",
    "language": "sv",
    "municipality": "Kerava",
    "children": "2019, 2016",
    "topics": "residence,contact",
    "other_parent_knows": "unsure",
    "fear": "no",
    "consent": "yes",
}


def test_a_complete_form_is_read_into_a_request_form() -> None:
    form = rq.parse_contact_form(ANSWERS, TODAY, POLICY, "fi")
    assert form.parent_name == "Maija Meikäläinen"
    assert form.child_birth_years == (2016, 2019)
    assert form.call_times == ("morning", "afternoon") and form.topics == ("residence", "contact")
    assert not form.urgent and form.page_lang == "fi"
    assert rq.parse_contact_form({**ANSWERS, "fear": "yes"}, TODAY, POLICY, "fi").urgent


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"parent_name": ""}, "parent_name", "required"),
        ({"parent_name": "x" * 101}, "parent_name", "too long"),
        ({"phone": "", "email": ""}, "phone", "a phone number or an e-mail is needed"),
        ({"phone": "call me"}, "phone", "not a phone number"),
        ({"email": "maija@"}, "email", "not an e-mail address"),
        ({"municipality": "Helsinki"}, "municipality", "unknown choice"),
        ({"municipality": ""}, "municipality", "required"),
        ({"language": "de"}, "language", "unknown choice"),
        ({"children": "2001"}, "children", None),
        ({"topics": ""}, "topics", "choose at least one topic"),
        ({"topics": "custody,money"}, "topics", "unknown choice"),
        ({"call_times": "night"}, "call_times", "unknown choice"),
        ({"fear": ""}, "fear", "required"),
        ({"consent": ""}, "consent", "required"),
        ({"parent_name": "Maija 010190-123A"}, "parent_name", "identity codes are not stored"),
        ({"parent_name": "Maija\x07"}, "parent_name", "not text"),
        ({"parent_name": "\u200b\u200c\u2060\ufeff\u00ad"}, "parent_name", "required"),
        ({"parent_name": " \u200b \u200e\u200f "}, "parent_name", "required"),
        ({"phone": "040 11"}, "phone", "not a phone number"),
        ({"phone": "(0) 1-2 3-4"}, "phone", "not a phone number"),
    ],
)
def test_each_problem_is_reported_by_its_field(
    changes: dict[str, str], field: str, problem: str | None
) -> None:
    with pytest.raises(errors.InvalidForm) as caught:
        rq.parse_contact_form({**ANSWERS, **changes}, TODAY, POLICY, "fi")
    assert field in caught.value.problems
    if problem is not None:
        assert caught.value.problems[field].params["problem"] == problem


def test_a_short_number_with_its_area_code_and_a_child_born_18_years_back_are_taken() -> None:
    form = rq.parse_contact_form(
        {**ANSWERS, "phone": "09 123 45", "children": "2008"}, TODAY, POLICY, "fi"
    )
    assert form.phone == "09 123 45" and form.child_birth_years == (2008,)


def test_every_problem_comes_at_once() -> None:
    with pytest.raises(errors.InvalidForm) as caught:
        rq.parse_contact_form({}, TODAY, POLICY, "en")
    assert set(caught.value.problems) == {
        "parent_name",
        "phone",
        "language",
        "municipality",
        "children",
        "topics",
        "other_parent_knows",
        "fear",
        "consent",
    }


def test_one_coordinator_takes_a_request_and_taking_it_again_changes_nothing() -> None:
    now = RECEIVED + timedelta(hours=1)
    taken = rq.take(sample(), 1, now)
    assert (taken.status, taken.taken_by, taken.taken_at) == (RequestStatus.TAKEN, 1, now)
    assert rq.take(taken, 1, now) is taken
    with pytest.raises(rq.TakenByAnother):
        rq.take(taken, 2, now)


def test_call_attempts_count_and_no_answer_needs_enough_of_them() -> None:
    now = RECEIVED + timedelta(hours=1)
    request = sample()
    for n in range(1, POLICY.max_attempts + 1):
        with pytest.raises(rq.TooFewAttempts):
            rq.close_no_answer(request, 1, now, POLICY)
        request = rq.record_attempt(request, 1, now + timedelta(hours=n))
        assert request.attempts == n and request.first_call_at == now + timedelta(hours=1)
    closed = rq.close_no_answer(request, 1, now, POLICY)
    assert closed.status is RequestStatus.NO_ANSWER and closed.judged_by == 1
    with pytest.raises(rq.RequestClosed):
        rq.record_attempt(closed, 1, now)


def test_not_suitable_needs_a_known_reason_and_referral() -> None:
    with pytest.raises(errors.InvalidForm) as caught:
        rq.judge_not_suitable(sample(), 1, RECEIVED, "", "nowhere")
    assert set(caught.value.problems) == {"reason", "referred_to"}
    judged = rq.judge_not_suitable(sample(), 1, RECEIVED, "outside_area", "other_municipality")
    assert (judged.status, judged.reason, judged.referred_to) == (
        RequestStatus.NOT_SUITABLE,
        "outside_area",
        "other_municipality",
    )


def test_a_suitable_request_is_linked_to_one_case_only() -> None:
    suitable = rq.judge_suitable(sample(), 1, RECEIVED)
    linked = rq.link_case(suitable, 12)
    assert linked.case_id == 12
    with pytest.raises(rq.RequestClosed):
        rq.link_case(linked, 13)
    with pytest.raises(rq.NotJudgedYet):
        rq.link_case(sample(), 12)


def test_a_stale_card_is_refused() -> None:
    request = sample(version=3)
    rq.check_request_current(request, 3)
    with pytest.raises(rq.StaleRequest):
        rq.check_request_current(request, 2)
    with pytest.raises(rq.StaleRequest):  # a button without the version it showed
        rq.check_request_current(request, None)


def test_the_intake_is_prefilled_from_the_request() -> None:
    values = rq.intake_values(sample(language="other", violence_or_fear=True))
    assert values["area"] == "Kerava" and values["language"] == "other"
    assert values["interpreter"] is True and values["safety_concern"] is True
    assert values["children"] == "2016, 2019" and values["parent1_name"] == "Maija Meikäläinen"
    assert "area" not in rq.intake_values(sample(municipality=rq.OUTSIDE_AREA))


def test_working_days_skip_weekends_and_holidays() -> None:
    friday = date(2026, 3, 6)
    assert rq.working_days_after(friday, date(2026, 3, 9), lambda d: False) == 1
    assert rq.working_days_after(friday, date(2026, 3, 9), lambda d: d == date(2026, 3, 9)) == 0
    assert rq.working_days_after(friday, friday, lambda d: False) == 0


def _coordinators() -> list:  # type: ignore[type-arg]
    present = mediator("Kaisa Koordinaattori", id=1, role=Role.COORDINATOR)
    away = mediator("Kalle Koordinaattori", id=2, role=Role.COORDINATOR)
    away.away = (AwayPeriod(TODAY, TODAY + timedelta(days=7)),)
    return [present, away, mediator("Olli Mediator", id=3)]


def test_a_new_request_goes_to_present_coordinators_and_an_urgent_one_to_all() -> None:
    people = _coordinators()
    calm = announce_messages(sample(), people, TODAY)
    assert [m.key.recipient for m in calm] == [people[0].aad_object_id]
    assert calm[0].key.kind is MessageKind.CONTACT_REQUEST
    assert calm[0].payload == {"request_id": 7, "urgent": False}
    urgent = announce_messages(sample(violence_or_fear=True), people, TODAY)
    assert {m.key.recipient for m in urgent} == {p.aad_object_id for p in people[:2]}
    assert announce_messages(sample(status=RequestStatus.TAKEN), people, TODAY) == []


def test_uncalled_requests_escalate_after_two_working_days_urgent_ones_at_once() -> None:
    people = _coordinators()
    requests = [
        sample(1),
        sample(2, violence_or_fear=True),
        sample(3, status=RequestStatus.TAKEN, taken_by=1, taken_at=RECEIVED),
        sample(4, status=RequestStatus.TAKEN, taken_by=1, attempts=1, first_call_at=RECEIVED),
    ]

    def due(day: date) -> set[int]:
        found = escalation_messages(day, requests, people, POLICY, lambda d: False, lambda r: TODAY)
        assert all(m.key.kind is MessageKind.REQUEST_ESCALATION for m in found)
        return {int(m.payload["request_id"]) for m in found}

    assert due(TODAY) == {2}
    assert due(TODAY + timedelta(days=1)) == {2}
    assert due(TODAY + timedelta(days=2)) == {1, 2, 3}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "request_",
    [
        sample(),
        sample(violence_or_fear=True, status=RequestStatus.TAKEN, taken_by=1, attempts=3),
        sample(status=RequestStatus.SUITABLE),
        sample(status=RequestStatus.NOT_SUITABLE, reason="declined", referred_to="none"),
        sample(status=RequestStatus.SUITABLE, case_id=4),
    ],
    ids=["new", "urgent-taken", "suitable", "not-suitable", "linked"],
)
def test_request_cards_are_valid_and_offer_what_may_be_done(
    lang: Lang, request_: rq.ContactRequest
) -> None:
    view = RequestView(request_, {1: "Kaisa"}, ZoneInfo("Europe/Helsinki"), 3, "2026-004")
    card = request_card(view, lang, "notice")
    assert_valid_card(card)
    found = {a.get("verb") for a in card["actions"]}
    folded = {
        a.get("verb")
        for a in card["actions"]
        if a["type"] == "Action.ShowCard"
        for a in a["card"]["actions"]
    }
    if request_.status is RequestStatus.NEW:
        assert verbs.REQUEST_TAKE in found and verbs.REQUEST_NOT_SUITABLE in folded
        assert verbs.REQUEST_NO_ANSWER not in found
    elif request_.status is RequestStatus.TAKEN:
        assert verbs.REQUEST_TAKE not in found and verbs.REQUEST_NO_ANSWER in found
        assert t(lang, "request.urgent") in str(card)
    elif request_.case_id is None and request_.status is RequestStatus.SUITABLE:
        assert found == {verbs.REQUEST_INTAKE}
    else:
        assert found == set()


@pytest.mark.parametrize("lang", LANGS)
def test_the_queue_and_the_prefilled_intake_cards_are_valid(lang: Lang) -> None:
    zone = ZoneInfo("Europe/Helsinki")
    views = [RequestView(sample(n), {}, zone, 3) for n in (1, 2)]
    assert_valid_card(queue_card(views, lang, 2026))
    assert_valid_card(queue_card([], lang, 2026))
    form = request_intake_form(lang, 5, rq.intake_values(sample()))
    assert_valid_card(form)
    assert [a["verb"] for a in form["actions"]] == [verbs.REQUEST_CREATE_CASE]
    assert form["actions"][0]["data"] == {"request_id": 5}


def test_a_policy_without_municipalities_is_refused() -> None:
    with pytest.raises(ValueError):
        FrontDoorPolicy(municipalities=())
    with pytest.raises(ValueError):
        dataclasses.replace(POLICY, max_attempts=0)


def test_the_other_parents_request_joins_the_familys_case() -> None:
    joined = rq.same_family(sample(), 1, RECEIVED, 12)
    assert (joined.status, joined.case_id, joined.judged_by) == (RequestStatus.SUITABLE, 12, 1)
    with pytest.raises(rq.RequestClosed):
        rq.same_family(joined, 1, RECEIVED, 13)


def test_the_card_offers_the_cases_going_on_for_the_other_parent() -> None:
    zone = ZoneInfo("Europe/Helsinki")
    view = RequestView(sample(), {}, zone, 3, cases=((4, "2026-004"), (9, "2026-009")))
    card = request_card(view, "fi")
    assert_valid_card(card)
    (folded,) = [
        a["card"]
        for a in card["actions"]
        if a["type"] == "Action.ShowCard" and a["title"] == t("fi", "request.action.same_family")
    ]
    (choice,) = [e for e in folded["body"] if e["type"] == "Input.ChoiceSet"]
    assert [c["title"] for c in choice["choices"]] == ["2026-009", "2026-004"]
    assert [a["verb"] for a in folded["actions"]] == [verbs.REQUEST_SAME_FAMILY]
    assert not [
        a
        for a in request_card(RequestView(sample(), {}, zone, 3), "fi")["actions"]
        if a.get("title") == t("fi", "request.action.same_family")
    ]


def test_the_years_figures_count_months_results_and_medians() -> None:
    zone = ZoneInfo("Europe/Helsinki")
    day = timedelta(days=1)
    requests = [
        sample(1, first_call_at=RECEIVED + day, status=RequestStatus.SUITABLE, case_id=4),
        sample(2, first_call_at=RECEIVED + 3 * day, violence_or_fear=True),
        sample(3, status=RequestStatus.NOT_SUITABLE, reason="declined", referred_to="none"),
        sample(4, status=RequestStatus.NO_ANSWER, created_at=RECEIVED + 40 * day),
        sample(5, created_at=RECEIVED.replace(year=2025)),  # another year
    ]
    figures = rq.request_figures(
        2026, requests, {4: RECEIVED + 10 * day}, lambda m: m.astimezone(zone).date()
    )
    assert figures.total == 4 and figures.per_month[2] == 3 and figures.per_month[3] == 1
    assert (figures.urgent, figures.waiting, figures.suitable, figures.no_answer) == (1, 1, 1, 1)
    assert figures.not_suitable == {"declined": 1}
    assert figures.suitable_share == pytest.approx(1 / 3)
    assert figures.days_to_first_call == pytest.approx(2.0)
    assert figures.days_to_first_meeting == pytest.approx(10.0)
    for lang in LANGS:
        card = figures_card(figures, lang)
        assert_valid_card(card)
        assert t(lang, "request.reason.declined") in str(card)
    empty = rq.request_figures(2026, [], {}, lambda m: m.date())
    assert empty.suitable_share is None and empty.days_to_first_call is None
    assert_valid_card(figures_card(empty, "en"))


async def test_a_case_made_from_a_request_links_it_in_its_own_transaction() -> None:
    uow, clock, policy = MemoryUnitOfWork(), FixedClock(), BankPolicy()
    async with uow:
        coord = await uow.mediators.add(mediator("Kaisa Koordinaattori", role=Role.COORDINATOR))
        await uow.commit()
    suitable = rq.judge_suitable(sample(), 1, RECEIVED)
    made = await services.register_case(
        services.RegisterCase(coord.aad_object_id, dict(FORM), suitable), uow, clock, policy
    )
    assert uow.store.requests[suitable.id] == (
        suitable.version + 1,
        rq.link_case(suitable, made.case_id),
    )

    # The same request, as a second form opened on it saw it: no second case.
    with pytest.raises(rq.StaleRequest):
        await services.register_case(
            services.RegisterCase(coord.aad_object_id, dict(FORM), suitable), uow, clock, policy
        )
    assert list(uow.store.cases) == [made.case_id]
