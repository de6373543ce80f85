"""The common time's part of the coordinators' statistics card: counts only, no names."""

from __future__ import annotations

from collections.abc import Mapping

from cards.base import Element, facts, heading, plain, text
from cards.common_time import competence_label
from cards.i18n import Lang, t, tn
from mediation.common_time import CommonTimeFigures
from mediation.common_time_feedback import CommonTimeFeedbackFigures
from mediation.stats import SMALL_COUNT


def month_label(lang: Lang, month: int) -> str:
    """3 -> 'March' / 'maaliskuu' / 'mars'."""
    return t(lang, f"commontime.stats.month.{month}")


def by_municipality(
    counts: Mapping[tuple[str, int], int],
) -> dict[str, dict[int, int]]:
    """{(municipality, month): count} -> {municipality: {month: count}}, in the order given."""
    grouped: dict[str, dict[int, int]] = {}
    for (municipality, month), count in counts.items():
        grouped.setdefault(municipality, {})[month] = count
    return grouped


def days_label(lang: Lang, figures: CommonTimeFigures) -> str:
    """The median days from consent to the meeting, with how many families it is over."""
    days = figures.days_consent_to_meeting
    if days is None:
        return "–"
    shown = f"{days:.1f}" if days % 1 else f"{days:.0f}"
    return tn(
        lang,
        "stats.days",
        figures.consent_to_meeting_count,
        days=shown.replace(".", t(lang, "format.decimal_point")),
    )


def _months(lang: Lang, months: Mapping[int, int]) -> str:
    listed = ", ".join(
        t(lang, "commontime.stats.month_count", month=month_label(lang, m), count=n)
        for m, n in months.items()
    )
    return t(lang, "commontime.stats.by_month", total=sum(months.values()), months=listed)


def _headed(title: str, pairs: list[tuple[str, str]]) -> list[Element]:
    """A heading and its facts, or nothing: a heading over no figures reads as missing data."""
    return [heading(title), facts(pairs)] if pairs else []


def _average(lang: Lang, value: float | None, count: int) -> str:
    """An average of 1-5 over ``count`` answers; withheld under five, as the bank's are."""
    if value is None or count < SMALL_COUNT:
        return tn(lang, "stats.withheld", count)
    shown = f"{value:.1f}".replace(".", t(lang, "format.decimal_point"))
    return t(lang, "commontime.stats.average", value=shown)


def feedback_part(lang: Lang, fb: CommonTimeFeedbackFigures) -> list[Element]:
    """What the attendees and the families said of the year's common times."""
    if not fb.team_answers and not fb.family_answers:
        return []
    team = fb.team_answers
    present = (
        str(fb.competences_present) if team >= SMALL_COUNT else tn(lang, "stats.withheld", team)
    )
    return _headed(
        t(lang, "commontime.stats.feedback"),
        [
            (t(lang, "commontime.stats.team_answers"), str(team)),
            (t(lang, "commontime.stats.team_useful"), _average(lang, fb.team_useful, team)),
            (t(lang, "commontime.stats.competences_present"), present),
            (t(lang, "commontime.stats.family_answers"), str(fb.family_answers)),
            (
                t(lang, "commontime.stats.family_useful"),
                _average(lang, fb.family_useful, fb.family_answers),
            ),
            (
                t(lang, "commontime.stats.family_heard"),
                _average(lang, fb.family_heard, fb.family_answers),
            ),
        ],
    )


def common_time_section(
    lang: Lang,
    year: int,
    figures: CommonTimeFigures,
    feedback: CommonTimeFeedbackFigures | None = None,
) -> list[Element]:
    """The year's held common times per municipality and month, the wait from the family's
    consent to the meeting, plans and their follow-up, the competences invited, and what
    the attendees and families said."""
    title = heading(t(lang, "commontime.stats.title"), separator=True)
    held = sum(figures.by_municipality_month.values())
    if not held:
        return [title, text(t(lang, "commontime.stats.none", year=year))]
    places = by_municipality(figures.by_municipality_month)
    return [
        title,
        facts(
            [
                (t(lang, "commontime.stats.held"), str(held)),
                (t(lang, "commontime.stats.to_meeting"), days_label(lang, figures)),
                (t(lang, "commontime.stats.plans"), str(figures.plans)),
                (t(lang, "commontime.stats.followed_up"), str(figures.plans_followed_up)),
            ]
        ),
        *_headed(
            t(lang, "commontime.stats.by_place"),
            [(plain(place), _months(lang, months)) for place, months in places.items()],
        ),
        *_headed(
            t(lang, "commontime.stats.competences"),
            [
                (competence_label(lang, code), str(n))
                for code, n in figures.competences_invited.items()
            ],
        ),
        *(feedback_part(lang, feedback) if feedback is not None else []),
    ]
