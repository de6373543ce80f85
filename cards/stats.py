"""The statistics card for coordinators: the year and its terms, a chart, the CSV link.

The card is the coordinators' own view (personal chat, coordinators only), so it shows
every count exactly and says so; what leaves that view (the CSV) shows 1-4 as "< 5". An
average of fewer than five answers is withheld everywhere, and marked as withheld.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date
from functools import partial

from cards.base import Card, Element, card, container, execute, facts, heading, plain, text
from cards.common_time_stats import common_time_section
from cards.i18n import Lang, format_date, label, t, term_label, tn
from cards.verbs import STATS_SHOW, STATS_WRITTEN
from mediation.common_time import CommonTimeFigures
from mediation.common_time_feedback import CommonTimeFeedbackFigures
from mediation.model import CaseStatus, MeetingKind, Outcome
from mediation.stats import Average, Median, WrittenLine, YearStats

_OUTCOMES = [o.value for o in Outcome]


def decimal(lang: Lang, value: float | None, digits: int = 1) -> str:
    """A figure with the language's decimal mark: 4,5 in Finnish and Swedish, 4.5 in English."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}".replace(".", t(lang, "format.decimal_point"))


def _avg(lang: Lang, average: Average) -> str:
    if average.value is None:
        return "–"
    if average.withheld:
        return tn(lang, "stats.withheld", average.count)
    return tn(lang, "stats.avg", average.count, value=decimal(lang, average.value))


def _median(lang: Lang, median: Median) -> str:
    if median.days is None:
        return "–"
    days = decimal(lang, median.days, 1 if median.days % 1 else 0)
    return tn(lang, "stats.days", median.count, days=days)


def _table(header: list[str], rows: Iterable[list[str]]) -> Element:
    def row(cells: list[str], bold: bool = False) -> Element:
        return {
            "type": "TableRow",
            "cells": [
                {
                    "type": "TableCell",
                    "items": [text(c, weight="Bolder" if bold else None, size="Small")],
                }
                for c in cells
            ],
        }

    return {
        "type": "Table",
        "columns": [{"width": 3}] + [{"width": 1}] * (len(header) - 1),
        "firstRowAsHeader": True,
        "showGridLines": False,
        "rows": [row(header, True), *(row(r) for r in rows)],
    }


def _bar(title: str, count: int, largest: int, style: str) -> Element:
    """A labelled horizontal bar built from columns: its width is its share of the largest."""
    filled = max(1, round(40 * count / largest)) if count else 0
    columns: list[Element] = []
    if filled:
        columns.append(
            {
                "type": "Column",
                "width": filled,
                "style": style,
                "minHeight": "14px",
                "items": [],
            }
        )
    if filled < 40:
        columns.append({"type": "Column", "width": 40 - filled, "items": []})
    return {
        "type": "ColumnSet",
        "spacing": "Small",
        "columns": [
            {"type": "Column", "width": 2, "items": [text(title, size="Small")]},
            {"type": "Column", "width": 1, "items": [text(str(count), size="Small")]},
            {
                "type": "Column",
                "width": 4,
                "verticalContentAlignment": "Center",
                "items": [{"type": "ColumnSet", "columns": columns}],
            },
        ],
    }


_BAR_STYLE = {
    "agreement": "good",
    "partial_agreement": "accent",
    "no_agreement": "warning",
    "not_suitable": "attention",
    "interrupted": "attention",
    "": "emphasis",
}


def _chart(lang: Lang, s: YearStats) -> list[Element]:
    if not any(s.by_outcome.values()):
        return []  # no families: an empty chart is only a grey box
    largest = max([1, *s.by_outcome.values()])
    items: list[Element] = [heading(t(lang, "stats.chart"), separator=True)]
    for term in s.terms:
        items.append(
            text(
                tn(
                    lang,
                    "stats.chart.term",
                    s.families.get(term, 0),
                    term=term_label(lang, term, s.year),
                ),
                weight="Bolder",
            )
        )
        for outcome in [*_OUTCOMES, ""]:
            n = s.by_outcome.get((term, outcome), 0)
            if not n:
                continue
            name = label(lang, "outcome", outcome) if outcome else t(lang, "stats.outcome.none")
            items.append(_bar(name, n, largest, _BAR_STYLE[outcome]))
    return items


def _per_term(s: YearStats, count: Callable[[str], int]) -> list[str]:
    """A table row's figures: one per term, then the year's sum."""
    values = [count(term) for term in s.terms]
    return [str(v) for v in values] + [str(sum(values))]


def _header(lang: Lang, s: YearStats) -> list[str]:
    terms = [term_label(lang, term, s.year) for term in s.terms]
    return [t(lang, "stats.col.figure"), *terms, t(lang, "stats.col.year")]


def _families(lang: Lang, s: YearStats) -> list[Element]:
    rows = [[t(lang, "stats.families.total"), *_per_term(s, lambda tm: s.families.get(tm, 0))]]
    for status in CaseStatus:
        rows.append(
            [
                label(lang, "status", status.value),
                *_per_term(s, partial(s.status_count, status.value)),
            ]
        )
    for outcome in _OUTCOMES:
        rows.append(
            [
                label(lang, "outcome", outcome),
                *_per_term(s, partial(s.outcome_count, outcome)),
            ]
        )
    return [heading(t(lang, "stats.families"), separator=True), _table(_header(lang, s), rows)]


def _headed(title: Element, pairs: list[tuple[str, str]]) -> list[Element]:
    """A heading and its facts, or nothing: a heading over no figures reads as missing data."""
    return [title, facts(pairs)] if pairs else []


def _places_and_timing(lang: Lang, s: YearStats) -> list[Element]:
    return [
        *_headed(
            heading(t(lang, "stats.by_area"), separator=True),
            [(area, str(n)) for area, n in s.by_area.items()],
        ),
        *_headed(
            heading(t(lang, "stats.by_referral")),
            [(label(lang, "referral", r), str(n)) for r, n in s.by_referral.items()],
        ),
        heading(t(lang, "stats.timing"), separator=True),
        facts(
            [
                (t(lang, "stats.to_pair"), _median(lang, s.to_pair)),
                (t(lang, "stats.to_meeting"), _median(lang, s.to_first_meeting)),
            ]
        ),
    ]


def _meetings(lang: Lang, s: YearStats) -> list[Element]:
    rows = [
        [t(lang, f"stats.kind.{k.value}"), *_per_term(s, partial(s.held, k.value))]
        for k in MeetingKind
    ]
    return [
        heading(t(lang, "stats.meetings"), separator=True),
        _table(_header(lang, s), rows),
        facts(
            [
                (t(lang, "stats.meetings.not_held"), str(s.meetings_not_held)),
                (t(lang, "stats.not_suitable"), str(s.outcome_count("not_suitable"))),
                (t(lang, "stats.interrupted"), str(s.outcome_count("interrupted"))),
            ]
        ),
    ]


def _client_feedback(lang: Lang, s: YearStats) -> list[Element]:
    c = s.client
    rate = c.response_rate
    return [
        heading(t(lang, "stats.client_feedback"), separator=True),
        facts(
            [
                (t(lang, "stats.links"), str(c.links)),
                (t(lang, "stats.answers"), str(c.answers)),
                (
                    t(lang, "stats.response_rate"),
                    "–" if rate is None else t(lang, "stats.percent", value=decimal(lang, rate, 0)),
                ),
                (t(lang, "stats.avg.felt_heard"), _avg(lang, c.felt_heard)),
                (t(lang, "stats.avg.impartial"), _avg(lang, c.impartial)),
                (t(lang, "stats.avg.child_view"), _avg(lang, c.child_view)),
                (
                    t(lang, "stats.settled"),
                    " / ".join(str(c.settled.get(k, 0)) for k in ("fully", "partly", "not")),
                ),
                (
                    t(lang, "stats.recommend"),
                    " / ".join(str(c.recommend.get(k, 0)) for k in ("yes", "maybe", "no")),
                ),
            ]
        ),
    ]


def _mediator_feedback(lang: Lang, s: YearStats) -> list[Element]:
    m = s.mediator_feedback
    return [
        heading(t(lang, "stats.mediator_feedback")),
        facts(
            [
                (t(lang, "stats.case_feedback"), f"{m.case_answers}/{m.case_possible}"),
                (t(lang, "stats.avg.package"), _avg(lang, m.package)),
                (t(lang, "stats.avg.pair"), _avg(lang, m.pair)),
                (t(lang, "stats.avg.meeting"), _avg(lang, m.meeting)),
            ]
        ),
    ]


def _mediators(lang: Lang, s: YearStats) -> list[Element]:
    # One fact a mediator keeps a bank of 35 well under Teams' card size.
    terms = [term_label(lang, term, s.year) for term in s.terms]
    columns = " · ".join([*terms, t(lang, "stats.col.quota"), t(lang, "stats.col.hours")])
    people = [
        (
            plain(p.name),
            " · ".join(
                [
                    *(f"{p.packages.get(term, 0)}/{p.term_quota.get(term, 0)}" for term in s.terms),
                    t(lang, "stats.quota_use", used=p.year_packages, limit=p.year_quota),
                    decimal(lang, p.hours),
                ]
            ),
        )
        for p in s.mediators
    ]
    return [
        heading(t(lang, "stats.mediators"), separator=True),
        text(columns, size="Small", subtle=True, spacing="None"),
        facts(people),
    ]


def _employers(lang: Lang, s: YearStats) -> list[Element]:
    return [
        *_headed(
            heading(t(lang, "stats.by_employer")),
            [
                (employer, t(lang, "stats.hours", hours=decimal(lang, minutes / 60)))
                for employer, minutes in s.minutes_by_employer.items()
            ],
        ),
        container([text(t(lang, "stats.small_counts"), size="Small", subtle=True)], separator=True),
    ]


def stats_card(
    lang: Lang,
    s: YearStats,
    today: date,
    download_url: str | None = None,
    link_minutes: int = 15,
    common_time: CommonTimeFigures | None = None,
    common_time_feedback: CommonTimeFeedbackFigures | None = None,
) -> Card:
    body: list[Element] = [
        heading(t(lang, "stats.title", year=s.year)),
        text(t(lang, "stats.asof", date=format_date(lang, today)), subtle=True, spacing="None"),
    ]
    if not s.total_families:
        body.append(text(t(lang, "stats.nothing", year=s.year)))
    body += _families(lang, s)
    body += _chart(lang, s)
    body += _places_and_timing(lang, s)
    body += _meetings(lang, s)
    body += _client_feedback(lang, s)
    body += _mediator_feedback(lang, s)
    if common_time is not None:
        body += common_time_section(lang, s.year, common_time, common_time_feedback)
    body += _mediators(lang, s)
    body += _employers(lang, s)
    actions: list[Element] = []
    if download_url:
        actions.append(
            {"type": "Action.OpenUrl", "title": t(lang, "stats.download"), "url": download_url}
        )
        body.append(
            text(
                t(lang, "stats.download_note", minutes=link_minutes),
                size="Small",
                subtle=True,
                spacing="None",
            )
        )
    actions.append(execute(t(lang, "written.open"), STATS_WRITTEN, {"year": s.year}))
    actions.append(
        execute(t(lang, "stats.previous", year=s.year - 1), STATS_SHOW, {"year": s.year - 1})
    )
    return card(lang, [b for b in body if b.get("facts") != []], actions)


# Serialized as the Bot Framework sends it, with room under Teams' 28 KB: the download
# holds every answer when the card cannot.
WRITTEN_BUDGET = 24_000


def written_feedback_card(
    lang: Lang,
    year: int,
    lines: Iterable[WrittenLine],
    download_url: str | None = None,
    link_minutes: int = 15,
) -> Card:
    """The year's written answers for the joint meetings: by term and writer, no case codes,
    no dates, and a warning on each answer that may identify someone."""
    body: list[Element] = [
        heading(t(lang, "written.title", year=year)),
        text(t(lang, "written.intro"), subtle=True, spacing="None"),
    ]
    shown = 0
    left_out = 0
    size = len(json.dumps(body))
    group: tuple[str, str] | None = None
    for line in lines:
        items: list[Element] = []
        if (line.term, line.source) != group:
            group = (line.term, line.source)
            title = t(
                lang,
                "written.group",
                term=term_label(lang, line.term, year),
                source=t(lang, f"written.source.{line.source}"),
            )
            items.append(heading(title, separator=True))
        items.append(text(f"“{plain(line.text)}”", spacing="Small"))
        if line.may_identify:
            items.append(text(t(lang, "written.may_identify"), color="Warning", size="Small"))
        cost = len(json.dumps(items))
        if size + cost > WRITTEN_BUDGET:
            left_out += 1
            continue
        size += cost
        shown += 1
        body.extend(items)
    if not shown and not left_out:
        body.append(text(t(lang, "written.none", year=year)))
    if left_out:
        body.append(text(tn(lang, "written.left_out", left_out), weight="Bolder"))
    actions: list[Element] = []
    if download_url:
        actions.append(
            {"type": "Action.OpenUrl", "title": t(lang, "written.download"), "url": download_url}
        )
        body.append(
            text(t(lang, "stats.download_note", minutes=link_minutes), size="Small", subtle=True)
        )
    actions.append(execute(t(lang, "written.back"), STATS_SHOW, {"year": year}))
    return card(lang, body, actions)
