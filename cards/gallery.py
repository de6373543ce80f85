"""Every card rendered with fixed, fictional sample data: for the golden tests and previews."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from cards.base import Card
from cards.case import (
    case_card,
    case_posted_card,
    details_card,
    my_cases_card,
    pair_complete_card,
    seat_released_card,
)
from cards.i18n import Lang, error_text, form_problems, t
from cards.intake import intake_form
from cards.mediators import quota_card, registry_card
from cards.messages import error_card, help_card, notice_card, setup_done_card
from cards.organisations import organisations_card
from mediation import errors
from mediation.intake import parse_intake
from mediation.model import (
    AwayPeriod,
    Case,
    Child,
    Family,
    Intake,
    Mediator,
    Outcome,
    Parent,
    Role,
)
from mediation.organisations import Organisation, OrganisationKind
from mediation.policy import BankPolicy
from mediation.rules import QuotaUsage
from mediation.sharing import Roster
from mediation.views import CaseDetails, CaseSummary, QuotaReport, summarize

ALL_BUILDERS: dict[str, Callable[..., Card]] = {
    f.__name__: f
    for f in (
        help_card,
        intake_form,
        case_card,
        details_card,
        error_card,
        notice_card,
        my_cases_card,
        quota_card,
        registry_card,
        pair_complete_card,
        seat_released_card,
        setup_done_card,
        case_posted_card,
        organisations_card,
    )
}

POLICY = BankPolicy()
TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _mediator(n: int, name: str, employer: str, langs: str, **kw: Any) -> Mediator:
    return Mediator(
        aad_object_id=f"00000000-0000-4000-8000-{n:012d}",
        name=name,
        email=f"mediator{n}@example.org",
        employer=employer,
        languages=frozenset(langs.split()),
        id=n,
        **kw,
    )


MEDIATORS: tuple[Mediator, ...] = (
    _mediator(
        1, "Aino Virtanen", "Tuusulan kunta", "fi sv", experienced_mark=True, completed_cases=6
    ),
    _mediator(2, "Bertil Lindqvist", "Keski-Uudenmaan hyvinvointialue", "sv fi"),
    _mediator(
        3,
        "Päivi Korhonen",
        "Keski-Uudenmaan hyvinvointialue",
        "fi",
        role=Role.COORDINATOR,
        completed_cases=11,
    ),
    _mediator(
        4, "Jukka Nieminen", "Järvenpään seurakuntayhtymä", "fi", active=False, completed_cases=3
    ),
    _mediator(
        5,
        "Sara Holm",
        "Keravan kaupunki",
        "sv fi",
        completed_cases=1,
        away=(AwayPeriod(date(2026, 3, 1), date(2026, 3, 15)),),
    ),
)
HOLDERS = {m.id: m for m in MEDIATORS if m.id is not None}
# Whom the assign lists offer: this term's packages, and who has shared cases with whom.
ROSTER = Roster(
    tuple((m.id, m.name) for m in MEDIATORS if m.id is not None and m.active),
    term_quota=2,
    term_packages={1: 1, 2: 2, 5: 2},
    pairs={(1, 2): 2, (2, 3): 1},
)

INTAKE = Intake(
    area="Tuusula",
    language="fi",
    interpreter=False,
    child_birth_years=(2013, 2019),
    topics=("custody", "contact"),
    preferred_times=("mon_afternoon", "wed_evening", "thu_morning"),
    referral_source="child_welfare_supervisor",
    safety_concern=True,
    excluded_days=("fri",),
)
FAMILY = Family(
    parents=(
        Parent("Maija Esimerkki", "040 000 0001", "maija@example.org", "Tuusula", "fi"),
        Parent("Matti Esimerkki", "", "matti@example.org", "Tuusula", "fi"),
    ),
    children=(Child(2013, "Eetu"), Child(2019)),
)


def sample_case(
    case_id: int,
    holders: tuple[int, ...] = (),
    *,
    outcome: Outcome | None = None,
    cancelled: bool = False,
    started: bool = False,
) -> Case:
    """A stored case whose seats ``holders`` fill in order, moved on as asked."""
    case = Case.new(f"2026-{case_id:03d}", INTAKE, 3, NOW, POLICY)
    case.id = case_id
    for n, holder in enumerate(holders, start=1):
        case.take_seat(n, holder, NOW)
    if started or outcome is not None:
        case.start()
    if outcome is not None:
        case.close(outcome, NOW)
    if cancelled:
        case.cancel(NOW)
    return case


def summary(case: Case) -> CaseSummary:
    return summarize(case, HOLDERS, POLICY, TODAY)


def _problems(lang: Lang) -> tuple[dict[str, object], dict[str, str]]:
    form: dict[str, object] = {
        "area": "Tuusula",
        "language": "other",
        "interpreter": "false",
        "children": "2013, 1999",
        "topics": "",
        "excluded_days": "fri",
        "referral_source": "school",
        "parent1_name": "Maija Esimerkki",
        "parent1_phone": "040 000 0001",
        "parent2_name": "",
        "parent2_email": "not-an-address",
    }
    try:
        parse_intake(form, TODAY)
    except errors.InvalidForm as exc:
        return form, form_problems(lang, exc)
    raise AssertionError("the sample form should not pass")


# A small network: one organisation of each state a coordinator meets.
ORGANISATIONS = (
    Organisation(
        "Kerava",
        OrganisationKind.MUNICIPALITY,
        date(2025, 1, 1),
        None,
        240,
    ),
    Organisation(
        "Keravan seurakunta", OrganisationKind.PARISH, date(2024, 1, 1), date(2025, 12, 31)
    ),
    Organisation(
        "Keski-Uusimaan hyvinvointialue", OrganisationKind.WELLBEING_COUNTY, yearly_hours=1200
    ),
    Organisation("Perheasiain neuvottelukeskus"),
)


def sample_cards(lang: Lang) -> dict[str, Card]:
    """Every builder at least once, in the states that change what a card shows."""
    open_case = summary(sample_case(3, (2,)))
    paired = summary(sample_case(4, (1, 2)))
    in_progress = summary(sample_case(5, (1, 5), started=True))
    closed = summary(sample_case(6, (1, 2), outcome=Outcome.AGREEMENT))
    cancelled = summary(sample_case(7, (), cancelled=True))
    values, problems = _problems(lang)
    usage = QuotaUsage(POLICY.term_of(TODAY), 2, 2, 3, 4)
    return {
        "help_card.mediator": help_card(lang, False),
        "help_card.coordinator": help_card(lang, True),
        "intake_form.empty": intake_form(lang),
        "intake_form.problems": intake_form(lang, values, problems),
        "case_card.open": case_card(open_case, lang, mediators=ROSTER),
        "case_card.paired": case_card(
            paired,
            lang,
            mediators=ROSTER,
            notice=t(lang, "notice.claimed", seat=2, code=paired.code),
        ),
        "case_card.refused": case_card(
            open_case,
            lang,
            mediators=ROSTER,
            notice=error_text(lang, errors.NeedsExperienced("Bertil Lindqvist")),
            notice_is_error=True,
        ),
        "case_card.in_progress": case_card(in_progress, lang, mediators=ROSTER),
        "case_card.closed": case_card(closed, lang, mediators=ROSTER),
        "case_card.cancelled": case_card(cancelled, lang),
        "details_card": details_card(
            CaseDetails(paired, FAMILY, INTAKE.referral_source, True, 5, INTAKE.excluded_days), lang
        ),
        "error_card": error_card(lang, error_text(lang, errors.QuotaExceeded("spring", 2, 2))),
        "notice_card": notice_card(lang, t(lang, "notice.released", code=open_case.code)),
        "my_cases_card": my_cases_card([open_case, paired, in_progress], lang),
        "my_cases_card.empty": my_cases_card([], lang),
        "quota_card": quota_card(QuotaReport(MEDIATORS[4], usage, 3, False), lang),
        "registry_card": registry_card(MEDIATORS, lang, POLICY, TODAY),
        "pair_complete_card": pair_complete_card(paired, lang),
        "seat_released_card": seat_released_card(
            open_case, "Aino Virtanen", "conflict_of_interest", lang
        ),
        "setup_done_card": setup_done_card(lang, "Sovittelijapankki"),
        "case_posted_card": case_posted_card(summary(sample_case(8)), lang),
        "organisations_card": organisations_card(
            ORGANISATIONS, lang, TODAY, notice=t(lang, "organisations.saved", name="Kerava")
        ),
        "organisations_card.refused": organisations_card(
            ORGANISATIONS,
            lang,
            TODAY,
            refused=error_text(lang, errors.InvalidInput("agreement", "not a date", value="31.2.")),
            typed={
                "organisation": "Keravan seurakunta",
                "agreement_end": "31.2.",
                "kind": "parish",
            },
        ),
    }
