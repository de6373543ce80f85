"""The intake form: every problem reported at once, by field, nothing identifying kept wrongly."""

from __future__ import annotations

from datetime import date

import pytest

from mediation import errors
from mediation.intake import parse_birth_years, parse_intake
from mediation.policy import DEFAULT_AREAS
from tests.unit.factories import FORM

TODAY = date(2026, 3, 2)


def test_a_good_form_splits_into_anonymous_intake_and_family() -> None:
    intake, family = parse_intake(FORM, TODAY)
    assert intake.area == "Järvenpää" and intake.child_birth_years == (2017, 2020)
    assert intake.topics == ("custody", "contact")
    assert intake.interpreter is False and intake.safety_concern is False
    assert [p.name for p in family.parents] == ["Aino Virtanen", "Mikko Virtanen"]
    assert family.parents[1].email == "" and family.parents[1].municipality == "Järvenpää"
    assert "Virtanen" not in repr(intake)


def test_the_familys_excluded_weekdays() -> None:
    assert parse_intake(FORM, TODAY)[0].excluded_days == ()
    intake, _ = parse_intake({**FORM, "excluded_days": "fri,mon, fri"}, TODAY)
    assert intake.excluded_days == ("fri", "mon")
    # Every weekday out: no time could ever be proposed, so the form says so now.
    with pytest.raises(errors.InvalidForm) as refused:
        parse_intake({**FORM, "excluded_days": "mon,tue,wed,thu,fri"}, TODAY)
    assert refused.value.problems["excluded_days"].params["problem"] == "leave at least one weekday"


def problems(
    areas: tuple[str, ...] = DEFAULT_AREAS, **changes: object
) -> dict[str, errors.InvalidInput]:
    with pytest.raises(errors.InvalidForm) as exc:
        parse_intake({**FORM, **changes}, TODAY, areas)
    return exc.value.problems


def test_every_problem_is_reported_by_field() -> None:
    found = problems(area="", language="de", children="17", topics="", parent2_name="")
    assert set(found) == {"area", "language", "children", "topics", "parent2_name"}


def test_other_language_needs_an_interpreter() -> None:
    assert set(problems(language="other")) == {"interpreter"}
    intake, _ = parse_intake({**FORM, "language": "other", "interpreter": "true"}, TODAY)
    assert intake.interpreter


def test_contact_needs_phone_or_email_and_both_must_look_right() -> None:
    assert set(problems(parent1_phone="", parent1_email="")) == {"parent1_phone"}
    assert set(problems(parent1_phone="call me")) == {"parent1_phone"}
    assert set(problems(parent1_email="nope")) == {"parent1_email"}


def test_identity_codes_are_refused_wherever_typed() -> None:
    assert set(problems(parent1_name="Aino 010203A123B")) == {"parent1_name"}


def test_the_area_is_one_of_the_banks_own() -> None:
    # It is shown on the anonymous channel card: a name or street typed there would identify.
    for typed in ("Kerava, Kauppakaari 7", "Aino Virtanen", "Espoo", "järvenpää"):
        found = problems(area=typed)
        assert set(found) == {"area"}, typed
        assert found["area"].params["problem"] == "choose from the list"
    for place in DEFAULT_AREAS:
        assert parse_intake({**FORM, "area": place}, TODAY)[0].area == place
    own = ("Närpes – Närpiö", "Helsinki (Itäkeskus)")
    assert parse_intake({**FORM, "area": own[1]}, TODAY, own)[0].area == own[1]
    assert set(problems(area="Järvenpää", areas=own)) == {"area"}


def test_a_parents_every_problem_comes_in_one_submit() -> None:
    found = problems(parent1_name="", parent1_phone="x", parent1_email="y", children="010203A123B")
    assert set(found) == {"parent1_name", "parent1_phone", "parent1_email", "children"}


def test_unknown_choices_and_oversized_text_are_refused() -> None:
    assert set(problems(topics="custody,hacking")) == {"topics"}
    assert set(problems(preferred_times="sun_night")) == {"preferred_times"}
    assert set(problems(excluded_days="fri,sat")) == {"excluded_days"}
    assert set(problems(excluded_days="2026-03-06")) == {"excluded_days"}
    assert set(problems(referral_source="tv")) == {"referral_source"}
    assert set(problems(area="x" * 201)) == {"area"}
    assert set(problems(parent1_name="x" * 5000)) == {"parent1_name"}
    assert set(problems(interpreter="maybe")) == {"interpreter"}


def test_birth_years() -> None:
    assert parse_birth_years("2020;2017 2019", TODAY) == (2017, 2019, 2020)
    for bad in ("", "20x7", "2027", "2000", "2007", "17"):
        with pytest.raises(errors.InvalidInput):
            parse_birth_years(bad, TODAY)


def test_a_child_born_in_the_year_eighteen_years_back_may_still_be_seventeen() -> None:
    # Born in December 2008, a child is 17 until December 2026.
    assert parse_birth_years("2008, 2026", TODAY) == (2008, 2026)
    assert parse_birth_years("2008", date(2026, 12, 6)) == (2008,)
    with pytest.raises(errors.InvalidInput):
        parse_birth_years("2007", date(2026, 12, 31))


def test_non_text_values_from_forged_data_are_refused() -> None:
    assert "area" in problems(area={"nested": "object"})


@pytest.mark.parametrize(
    "bad", ["\x00", "\t", "\n", "\x1b", "\x7f", "\ud800", "\u2028", "\u202e", "\u2066"]
)
@pytest.mark.parametrize(
    "field", ["area", "parent1_name", "parent1_phone", "parent1_email", "children", "topics"]
)
def test_control_characters_and_lone_surrogates_are_refused_at_their_field(
    field: str, bad: str
) -> None:
    found = problems(**{field: f"{FORM[field]}{bad}x"})
    assert set(found) == {field}
    assert found[field].params["problem"] == "a character that cannot be saved"
    assert bad not in repr(found[field].params)


def test_printable_text_in_any_script_is_taken() -> None:
    _, family = parse_intake({**FORM, "parent1_name": "Zoë Ørsted-Šimić ❤ 李"}, TODAY)
    assert family.parents[0].name == "Zoë Ørsted-Šimić ❤ 李"
