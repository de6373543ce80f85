"""The fi/sv/en catalogs: same keys and placeholders, every code named, every error said."""

from __future__ import annotations

import ast
import logging
import string
from datetime import date
from pathlib import Path

import pytest

from cards import i18n
from cards.i18n import LANGS, Lang, catalog, error_text, lang_of, problem_name, t, tn
from mediation import errors
from mediation.family_mail import InvalidTemplate
from mediation.intake import parse_intake
from mediation.model import (
    LANGUAGES,
    PREFERRED_TIMES,
    REFERRAL_SOURCES,
    TOPICS,
    CaseStatus,
    Outcome,
    ReleaseReason,
    Role,
)
from mediation.outbox import MessageKind, OutboxStatus
from mediation.policy import DEFAULT_TERMS
from mediation.registry import RegistryFileError, RowProblem, parse_registry
from mediation.views import AGE_BANDS
from tests.unit.calendar_samples import calendar_errors
from tests.unit.case_type_samples import case_type_errors
from tests.unit.common_time_samples import common_time_errors
from tests.unit.consultation_samples import consultation_errors
from tests.unit.factories import FORM
from tests.unit.request_samples import request_errors

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 3, 2)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


# -- the catalogs --------------------------------------------------------------------------


def test_the_three_catalogs_have_the_same_keys() -> None:
    en = set(catalog("en"))
    for lang in ("fi", "sv"):
        assert set(catalog(lang)) - en == set(), f"only in {lang}"
        assert en - set(catalog(lang)) == set(), f"missing from {lang}"


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_each_message_has_the_same_placeholders_in_every_language(lang: Lang) -> None:
    different = {
        key: (placeholders(en), placeholders(catalog(lang)[key]))
        for key, en in catalog("en").items()
        if placeholders(en) != placeholders(catalog(lang)[key])
    }
    assert different == {}


@pytest.mark.parametrize("lang", LANGS)
def test_messages_are_non_empty_and_their_placeholders_plain_names(lang: Lang) -> None:
    for key, template in catalog(lang).items():
        assert template.strip(), key
        assert all(name.isidentifier() for name in placeholders(template)), key


def test_a_missing_key_is_an_error_not_a_silent_fallback() -> None:
    with pytest.raises(KeyError):
        t("fi", "no.such.key")


def test_plural_forms_follow_the_count() -> None:
    assert tn("en", "quota.waiting", 1) == "1 family is waiting for a pair."
    assert tn("fi", "quota.waiting", 3) == "3 perhettä odottaa sovittelijaparia."
    assert tn("sv", "quota.waiting", 0) == "Ingen familj väntar på ett medlarpar just nu."


@pytest.mark.parametrize(
    ("locale", "lang"),
    [
        ("fi-FI", "fi"),
        ("fi", "fi"),
        ("sv-SE", "sv"),
        ("sv-FI", "sv"),
        ("SV_fi", "sv"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("de-DE", "fi"),
        ("", "fi"),
        (None, "fi"),
    ],
)
def test_the_locale_picks_the_catalog_and_finnish_is_the_default(
    locale: str | None, lang: str
) -> None:
    assert lang_of(locale) == lang


# -- codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_code_has_a_name_in_every_language(lang: Lang) -> None:
    groups: dict[str, tuple[str, ...]] = {
        "language": LANGUAGES,
        "topic": TOPICS,
        "referral": REFERRAL_SOURCES,
        "status": tuple(CaseStatus),
        "outcome": tuple(Outcome),
        "release": tuple(ReleaseReason),
        "role": tuple(Role),
        "age": tuple(label for _, _, label in AGE_BANDS),
    }
    for group, codes in groups.items():
        for code in codes:
            assert i18n.label(lang, group, code)
    for code in PREFERRED_TIMES:
        assert i18n.time_label(lang, code)
    for term in DEFAULT_TERMS:
        assert "2026" in i18n.term_label(lang, term.name, 2026)
        assert i18n.when_label(lang, term.name)
    assert i18n.when_label(lang, "year")
    for field in (*FORM, "parent1", "parent2"):
        assert i18n.field_label(lang, field) != t(lang, "field.unknown")


def test_names_read_naturally() -> None:
    assert i18n.time_label("en", "mon_morning") == "Mon morning"
    assert i18n.time_label("fi", "fri_evening") == "pe ilta"
    assert i18n.time_label("sv", "wed_afternoon") == "ons eftermiddag"
    assert i18n.term_label("sv", "autumn", 2026) == "hösten 2026"
    assert i18n.when_label("fi", "spring") == "tänä keväänä"
    assert i18n.format_date("fi", date(2026, 3, 5)) == "5.3.2026"
    assert i18n.format_date("en", date(2026, 3, 5)) == "2026-03-05"
    assert i18n.join_and("sv", ["A", "B", "C"]) == "A, B och C"


# -- errors --------------------------------------------------------------------------------


def every_error() -> list[errors.DomainError]:
    """One instance of every DomainError class, with realistic parameters."""
    return [
        errors.DomainError("something odd"),
        errors.NotFound("the family's details of case 2026-003 have been erased"),
        errors.CaseNotFound(42),
        errors.MediatorNotFound(7),
        errors.NotInRegistry(["Päivi Korhonen", "Aino Virtanen"]),
        errors.NotActive(["Päivi Korhonen"]),
        errors.LastCoordinator(),
        errors.NotAllowed("closing a case", "only a coordinator may do this"),
        errors.BookerNotAllowed(),
        errors.BookerFirstMeetingsOnly("2026-003"),
        errors.ShiftRefused("passed", "the shift has already begun or passed"),
        errors.ShiftRefused("not_in_rota", "Aino does not staff these shifts", name="Aino"),
        errors.ShiftRefused("record_over", "visits are recorded until 3 days after", days=3),
        errors.ShiftRefused("minutes", "a visit takes 5 to 240 minutes", low=5, high=240),
        errors.ShiftRefused("swap_withdrawn", "the offer was withdrawn already"),
        errors.BookingDeskOnly(),
        errors.BookerHoldsNoSeat("Sanna Sihteeri"),
        *(
            InvalidTemplate(part, problem, name)
            for part, problem, name in (
                ("subject", "empty", ""),
                ("body", "too long", ""),
                ("subject", "one line", ""),
                ("body", "unknown placeholder", "name"),
                ("body", "missing placeholder", "when"),
                ("text", "broken braces", ""),
            )
        ),
        errors.IllegalTransition("claim a seat on", "closed"),
        errors.SeatTaken(2, "Aino Virtanen"),
        errors.NoFreeSeat("2026-003"),
        errors.NotSeatHolder("2026-003"),
        errors.StaleCard("2026-003", status="paired"),
        errors.StaleCard("2026-003", seat=2),
        errors.StaleCard("2026-003"),
        errors.UnmarkedForm(),
        errors.InvalidInput("shown", "not readable"),
        errors.NeedsExperienced("Bertil Lindqvist"),
        errors.SameMediatorTwice("Aino Virtanen"),
        errors.QuotaExceeded("spring", 2, 2),
        errors.MediatorAway("Sara Holm", "2026-03-15"),
        errors.MediatorInactive("Jukka Nieminen"),
        errors.LanguageMismatch("Bertil Lindqvist", "sv"),
        errors.OverrideReasonRequired("autumn", 2, 2),
        errors.MeetingsOutOfOrder(),
        errors.SafetyConcernOpen(),
        errors.PackageFull(6),
        errors.InvalidInput("children", "birth years are four digits", value="17"),
        errors.InvalidForm(
            {
                "area": errors.InvalidInput("area", "required"),
                "parent1_phone": errors.InvalidInput("parent1_phone", "not a phone number"),
            }
        ),
        RegistryFileError(
            [
                RowProblem(3, "email", "not an e-mail address"),
                RowProblem(5, "-", "2 cells where the header has 8"),
            ]
        ),
        *calendar_errors(),
        *case_type_errors(),
        *common_time_errors(),
        *consultation_errors(),
        *request_errors(),
    ]


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *all_subclasses(sub)}
    return found


def test_the_sample_errors_cover_every_domain_error_class() -> None:
    assert all_subclasses(errors.DomainError) | {errors.DomainError} == {
        type(e) for e in every_error()
    }


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("err", every_error(), ids=lambda e: type(e).__name__)
def test_every_error_is_said_in_every_language(
    lang: Lang, err: errors.DomainError, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cards.i18n"):
        text = error_text(lang, err)
    assert text.strip() and "{" not in text
    assert caplog.records == [], "fell back to a generic message"
    if err.key != "error.generic":
        assert err.key in catalog(lang)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "You have 2 of 2 this spring."),
        ("fi", "Sinulla on jo 2/2 sovittelua tänä keväänä."),
        ("sv", "Du har redan 2 av 2 medlingar i vår."),
    ],
)
def test_a_quota_refusal_carries_the_numbers_and_the_term(lang: Lang, expected: str) -> None:
    assert expected in error_text(lang, errors.QuotaExceeded("spring", 2, 2))


def test_quota_refusals_name_the_year_and_another_person() -> None:
    assert "3 of 4 this year" in error_text("en", errors.QuotaExceeded("year", 3, 4))
    assert "tänä vuonna" in error_text("fi", errors.QuotaExceeded("year", 4, 4))
    named = error_text("en", errors.QuotaExceeded("autumn", 2, 2, "Aino Virtanen"))
    assert named.startswith("Aino Virtanen has 2 of 2 this autumn.")
    assert "2/2 sovittelua tänä syksynä" in error_text(
        "fi", errors.OverrideReasonRequired("autumn", 2, 2)
    )


def test_refusals_say_the_rule_in_words_and_codes_in_the_users_language() -> None:
    assert error_text("en", errors.NeedsExperienced("Bertil Lindqvist")) == (
        "The other seat holder is new: this seat needs an experienced mediator."
    )
    assert "(ruotsi)" in error_text("fi", errors.LanguageMismatch("Bertil Lindqvist", "sv"))
    assert "15.3.2026" in error_text("sv", errors.MediatorAway("Sara Holm", "2026-03-15"))
    assert "”Päättynyt”" in error_text("fi", errors.IllegalTransition("close", "closed"))
    assert "Annullerat" in error_text("sv", errors.IllegalTransition("cancel", "cancelled"))
    coordinators = error_text("en", errors.NotInRegistry(["Päivi Korhonen"]))
    assert coordinators.endswith("Päivi Korhonen.")


def test_a_mediator_named_by_number_is_not_shown_as_a_number() -> None:
    # Case.take_seat and replace_holder raise with the database id, not the name.
    assert error_text("en", errors.SeatTaken(2, "17")) == "Seat 2 is already taken."
    assert "17" not in error_text("fi", errors.SameMediatorTwice("17"))


def test_an_invalid_form_lists_the_fields_by_their_names() -> None:
    err = errors.InvalidForm(
        {
            "area": errors.InvalidInput("area", "required"),
            "parent2_email": errors.InvalidInput("parent2_email", "not an e-mail address"),
        }
    )
    assert (
        error_text("fi", err) == "Tarkista seuraavat kohdat: Alue (kunta), Vanhempi 2: sähköposti."
    )
    assert i18n.form_problems("sv", err) == {
        "area": "Uppgiften behövs.",
        "parent2_email": "Detta är inte en e-postadress.",
    }


def test_an_unknown_error_key_falls_back_loudly(caplog: pytest.LogCaptureFixture) -> None:
    class NewRule(errors.DomainError):
        key = "error.brand_new"

    with caplog.at_level(logging.WARNING, logger="cards.i18n"):
        assert error_text("en", NewRule("x")) == t("en", "error.generic")
    assert "error.brand_new" in caplog.text


# -- input problems ------------------------------------------------------------------------


def invalid_input_problems(path: Path) -> list[str]:
    """The problem texts of every InvalidInput(field, problem) in a module's source.

    An f-string's holes are filled with 2000, which reads as a year, a seat or a count.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name != "InvalidInput":
            continue
        problem = node.args[1]
        if isinstance(problem, ast.Constant) and isinstance(problem.value, str):
            found.append(problem.value)
        elif isinstance(problem, ast.JoinedStr):
            found.append(
                "".join(
                    str(v.value) if isinstance(v, ast.Constant) else "2000" for v in problem.values
                )
            )
    return found


SOURCES = sorted([*(ROOT / "mediation").glob("*.py"), *(ROOT / "cards").glob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_input_problem_in_the_source_has_a_translation(path: Path) -> None:
    untranslated = [p for p in invalid_input_problems(path) if problem_name(p) is None]
    assert untranslated == []


def test_the_source_scan_finds_the_intake_problems() -> None:
    found = invalid_input_problems(ROOT / "mediation" / "intake.py")
    assert "a phone number or an e-mail is needed" in found
    assert "2000 is not the birth year of a child under 18" in found


def triggered_intake_problems() -> list[errors.InvalidInput]:
    """Fill the intake form wrongly in every way intake.py knows."""
    forms: list[dict[str, object]] = [
        {"area": "x" * 1001},
        {"parent1_name": "Maija 131052-308T"},
        {"parent1_name": "Maija\x00"},
        {"area": "Kerava, Kauppakaari 7"},
        {
            "area": "",
            "language": "de",
            "interpreter": "maybe",
            "children": "",
            "topics": "",
            "referral_source": "radio",
            "parent1_name": "",
            "parent2_phone": "abc",
        },
        {
            "area": "x" * 201,
            "children": "17",
            "topics": "custody,weather",
            "parent1_phone": "",
            "parent1_email": "",
            "parent2_phone": "",
            "parent2_email": "x@",
        },
        {"area": ["not", "text"], "language": "other", "interpreter": "false", "children": "1990"},
        {"children": " ".join(["2015"] * 13), "parent2_name": "x" * 201},
        {"excluded_days": "mon,tue,wed,thu,fri"},
    ]
    found: list[errors.InvalidInput] = []
    for changes in forms:
        with pytest.raises(errors.InvalidForm) as exc:
            parse_intake({**FORM, **changes}, TODAY)
        found.extend(exc.value.problems.values())
    return found


def test_every_problem_of_the_intake_form_is_triggered_and_translated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    triggered = triggered_intake_problems()
    names = {problem_name(str(p.params["problem"])) for p in triggered}
    in_source = {problem_name(p) for p in invalid_input_problems(ROOT / "mediation" / "intake.py")}
    assert in_source - names == set(), "not triggered"
    with caplog.at_level(logging.WARNING, logger="cards.i18n"):
        for lang in LANGS:
            for problem in triggered:
                text = i18n.problem_text(lang, problem)
                assert text and "{" not in text
                assert error_text(lang, problem).startswith(
                    i18n.field_label(lang, problem.params["field"])
                )
    assert caplog.records == []


def test_problems_carry_their_values() -> None:
    err = errors.InvalidInput(
        "children", "1990 is not the birth year of a child under 18", value="1990"
    )
    assert i18n.problem_text("fi", err) == "1990 ei ole alle 18-vuotiaan lapsen syntymävuosi."
    err = errors.InvalidInput("package_size", "3 meetings are already booked or held", size=2)
    assert i18n.problem_text("en", err) == "Meetings already booked or held: 3."


# -- registry file problems ----------------------------------------------------------------

HEADER = "aad_object_id,name,email,employer,languages,experienced,role,active\n"
GOOD = "{id},Aino Virtanen,aino@example.org,Tuusula,fi,yes,mediator,yes\n"


def guid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def registry_problems() -> list[RowProblem]:
    files: list[bytes | str] = [
        b"\xff\xfe",
        "",
        "name,email\n",
        HEADER + "not-a-guid,,bad,,de,perhaps,boss,\n",
        HEADER + f"{guid(1)},{'x' * 201},a@example.org,Tuusula,,yes,mediator,yes\n",
        HEADER + GOOD.format(id=guid(1)) + GOOD.format(id=guid(1)) + "a,b\n",
        HEADER + f'{guid(1)},"{"x" * 200_000}",a@example.org,T,fi,yes,mediator,yes\n',
        HEADER + "".join(GOOD.format(id=guid(n)) for n in range(10_002)),
        HEADER.replace("\n", ",qualifications\n") + GOOD.format(id=guid(1)).replace("\n", ",x\n"),
    ]
    found: list[RowProblem] = []
    for data in files:
        with pytest.raises(RegistryFileError) as exc:
            parse_registry(data)
        found.extend(exc.value.problems)
    return found


def test_every_registry_file_problem_is_translated(caplog: pytest.LogCaptureFixture) -> None:
    problems = registry_problems()
    with caplog.at_level(logging.WARNING, logger="cards.i18n"):
        for lang in LANGS:
            for problem in problems:
                assert "{" not in i18n.registry_problem_text(lang, problem)
        assert "- Rivi 2, sarake name: tyhjä" in error_text("fi", RegistryFileError(problems))
    assert caplog.records == []
    names = {
        name
        for p in problems
        for pattern, name in i18n._REGISTRY_PROBLEMS
        if pattern.fullmatch(p.message)
    }
    assert names == {name for _, name in i18n._REGISTRY_PROBLEMS}


def test_a_long_registry_report_is_cut_short() -> None:
    problems = [RowProblem(n, "email", "not an e-mail address") for n in range(2, 30)]
    text = error_text("en", RegistryFileError(problems))
    assert "28 problems:" in text and text.endswith("…and 18 more.")


def test_a_code_without_words_falls_back_loudly_too(caplog: pytest.LogCaptureFixture) -> None:
    # A bank may name its terms differently in the settings; the refusal must still be said.
    with caplog.at_level(logging.WARNING, logger="cards.i18n"):
        assert error_text("fi", errors.QuotaExceeded("summer", 1, 1)) == t("fi", "error.generic")
    assert "when.summer" in caplog.text


@pytest.mark.parametrize("lang", LANGS)
def test_the_report_names_every_kind_of_message_and_every_status(lang: Lang) -> None:
    words = catalog(lang)
    assert not [k for k in MessageKind if f"report.kind.{k.value}" not in words]
    assert not [s for s in OutboxStatus if f"report.status.{s.value}" not in words]
