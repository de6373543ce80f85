"""The seat rules: availability, language, pairing and experience, quotas."""

from __future__ import annotations

from datetime import date

import pytest

from mediation import errors, rules
from mediation.model import AwayPeriod, Case
from mediation.policy import BankPolicy
from mediation.rules import QuotaUsage
from tests.unit.factories import NOW, case, mediator

P = BankPolicy()
TODAY = date(2026, 3, 2)


def usage(term_used: int = 0, year_used: int = 0) -> QuotaUsage:
    term = P.term_of(TODAY)
    return QuotaUsage(term, term_used, 2, year_used, 4)


def test_new_mediator_needs_an_experienced_partner() -> None:
    c = case()
    new1 = mediator("Uusi Yksi", id=1, experienced=False)
    new2 = mediator("Uusi Kaksi", id=2, experienced=False)
    c.take_seat(1, 1, NOW)
    with pytest.raises(errors.NeedsExperienced) as exc:
        rules.check_pairing(c, c.seat(2), new2, {1: new1}, P)
    assert "Uusi Yksi" in str(exc.value) and "experienced" in str(exc.value)
    assert rules.seat_needs_experienced(c, c.seat(2), {1: new1}, P)


def test_new_mediator_may_take_the_first_seat_or_join_an_experienced_one() -> None:
    c = case()
    new = mediator("Uusi", id=1, experienced=False)
    old = mediator("Konkari", id=2)
    rules.check_pairing(c, c.seat(1), new, {}, P)  # the other seat can still go to an experienced
    c.take_seat(1, 2, NOW)
    rules.check_pairing(c, c.seat(2), new, {2: old}, P)
    assert not rules.seat_needs_experienced(c, c.seat(2), {2: old}, P)


def test_experience_comes_from_completed_cases_or_a_mark() -> None:
    assert not mediator(experienced=False, completed=1).is_experienced(P)
    assert mediator(experienced=False, completed=2).is_experienced(P)
    assert mediator(experienced=True, completed=0).is_experienced(P)
    assert not mediator(experienced=False, completed=2).is_experienced(
        BankPolicy(experience_threshold=3)
    )


def test_same_mediator_cannot_hold_both_seats() -> None:
    c = case()
    m = mediator(id=1)
    c.take_seat(1, 1, NOW)
    with pytest.raises(errors.SameMediatorTwice):
        rules.check_pairing(c, c.seat(2), m, {1: m}, P)


def test_quota_refusals_name_the_numbers() -> None:
    with pytest.raises(errors.QuotaExceeded, match="2 of 2 this spring") as exc:
        rules.check_quota(usage(term_used=2, year_used=2))
    assert exc.value.params == {"scope": "spring", "used": 2, "limit": 2, "name": "you"}
    with pytest.raises(errors.QuotaExceeded, match="4 of 4 this year") as year:
        rules.check_quota(usage(term_used=1, year_used=4))
    assert year.value.key == "error.quota_year"
    rules.check_quota(usage(term_used=1, year_used=3))
    assert rules.quota_problem(usage(1, 3)) is None


def test_language_must_match_unless_an_interpreter_is_booked() -> None:
    swede = mediator("Sven", languages="sv")
    with pytest.raises(errors.LanguageMismatch, match=r"\(fi\)"):
        rules.check_language(swede, case(language="fi"))
    rules.check_language(swede, case(language="fi", interpreter=True))
    rules.check_language(mediator(languages="fi sv"), case(language="sv"))


def test_away_and_inactive_mediators_cannot_claim() -> None:
    m = mediator()
    m.away = (AwayPeriod(date(2026, 3, 1), date(2026, 3, 31)),)
    with pytest.raises(errors.MediatorAway, match="2026-03-31"):
        rules.check_available(m, TODAY)
    rules.check_available(m, date(2026, 4, 1))
    with pytest.raises(errors.MediatorInactive):
        rules.check_available(mediator(active=False), TODAY)


def test_away_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(errors.InvalidInput):
        AwayPeriod(date(2026, 3, 2), date(2026, 3, 1))


def test_check_can_claim_reports_a_taken_seat_by_name() -> None:
    c = case()
    holder = mediator("Helena Holder", id=1)
    c.take_seat(1, 1, NOW)
    with pytest.raises(errors.SeatTaken, match="Helena Holder"):
        rules.check_can_claim(c, c.seat(1), mediator(id=2), {1: holder}, P, TODAY)


def test_n_seat_case_types_use_the_same_pairing_rule() -> None:
    from mediation.model import Case, CaseType, SeatSpec

    team = CaseType(
        "common_time", (SeatSpec("worker"), SeatSpec("worker"), SeatSpec("therapist")), 2
    )
    c = Case.new("2026-009", case().intake, 99, NOW, P, team)
    c.id = 9
    new = {i: mediator(f"New {i}", id=i, experienced=False) for i in (1, 2)}
    rules.check_pairing(c, c.seat(1), new[1], {}, P)
    c.take_seat(1, 1, NOW)
    with pytest.raises(errors.NeedsExperienced):
        rules.check_pairing(c, c.seat(2), new[2], {1: new[1]}, P)
    assert len(c.seats) == 3 and c.seats[2].role == "therapist"


# -- stale cards ---------------------------------------------------------------------------


def shown_now(c: Case) -> rules.CardSnapshot:
    """What a card drawn from ``c`` right now shows."""
    return rules.CardSnapshot(c.version, c.status, tuple(s.holder_id for s in c.seats))


def test_a_card_of_the_current_version_or_without_a_snapshot_is_current() -> None:
    c = case()
    rules.check_card_current(None, c, 1)
    rules.check_card_current(shown_now(c), c, 1)
    rules.check_card_current(shown_now(c), c)


def test_a_card_is_stale_when_the_seat_it_acts_on_changed_hands() -> None:
    c = case()
    card = shown_now(c)
    c.take_seat(1, 7, NOW)
    c.version += 1
    with pytest.raises(errors.StaleCard) as exc:
        rules.check_card_current(card, c, 1)
    assert exc.value.key == "error.stale_seat" and exc.value.params["seat"] == 1
    rules.check_card_current(card, c, 2)  # the other seat is as the card showed it


def test_seats_filling_between_open_and_paired_matter_only_to_their_own_seat() -> None:
    c = case()
    c.take_seat(1, 7, NOW)
    c.take_seat(2, 8, NOW)
    c.version += 1  # saved
    paired = shown_now(c)
    c.vacate_seat(2)  # the case is open again
    c.version += 1
    rules.check_card_current(paired, c, 1)  # seat 1's holder may still release it
    with pytest.raises(errors.StaleCard):
        rules.check_card_current(paired, c, 2)


def test_a_changed_status_makes_a_card_stale_for_the_whole_case() -> None:
    c = case()
    c.take_seat(1, 7, NOW)
    c.take_seat(2, 8, NOW)
    card = shown_now(c)
    c.cancel(NOW)
    c.version += 1
    with pytest.raises(errors.StaleCard) as exc:
        rules.check_card_current(card, c)
    assert exc.value.key == "error.stale_status" and exc.value.params["status"] == "cancelled"
    with pytest.raises(errors.StaleCard):
        rules.check_card_current(card, c, 1)
    c2 = case()
    c2.take_seat(1, 7, NOW)
    c2.take_seat(2, 8, NOW)
    paired = shown_now(c2)
    c2.vacate_seat(2)
    c2.version += 1
    with pytest.raises(errors.StaleCard):  # a case-wide action sees open is not paired
        rules.check_card_current(paired, c2)


def test_a_seat_taken_and_given_up_since_the_card_was_drawn_makes_it_stale() -> None:
    """The seat looks as the card showed it, but the card is older than its changes."""
    c = case()
    drawn = shown_now(c)  # both seats free
    c.take_seat(1, 7, NOW)
    c.version += 1  # saved
    with_release = shown_now(c)
    c.vacate_seat(1)
    c.version += 1
    with pytest.raises(errors.StaleCard) as exc:  # the old claim, sent again
        rules.check_card_current(drawn, c, 1)
    assert exc.value.params["seat"] == 1
    rules.check_card_current(drawn, c, 2)  # the other seat never changed
    c.take_seat(1, 7, NOW)  # the same mediator takes it back
    c.version += 1
    with pytest.raises(errors.StaleCard):  # the old release, sent again
        rules.check_card_current(with_release, c, 1)
    with pytest.raises(errors.StaleCard):  # a case-wide action from either card
        rules.check_card_current(drawn, c)
    rules.check_card_current(shown_now(c), c, 1)  # the card as it is now acts


def test_a_button_without_a_snapshot_is_never_current() -> None:
    c = case()
    for seat in (None, 1, 2):
        with pytest.raises(errors.StaleCard) as exc:
            rules.check_card_current(rules.CardSnapshot.missing(), c, seat)
        assert exc.value.key == "error.stale_card" and exc.value.params["code"] == c.code


def test_a_snapshot_with_fewer_seats_than_the_case_is_stale_for_the_missing_seat() -> None:
    c = case()
    c.version = 3
    card = rules.CardSnapshot(2, c.status, (None,))
    rules.check_card_current(card, c, 1)
    with pytest.raises(errors.StaleCard):
        rules.check_card_current(card, c, 2)
