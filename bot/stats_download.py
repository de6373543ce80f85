"""The statistics as CSV through a signed link that expires: ``GET /stats/{year}.csv``.

The link carries the year, the language, an expiry time and an HMAC of the three made
with SOPU_SECRET_KEY; no session and no Teams login is needed to open it, so it is short
lived. The file is UTF-8 with a BOM and ';'-separated, as Finnish Excel opens it, and
shows counts from 1 to 4 as "< 5": it leaves the coordinators' own view.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from aiohttp import web

from bot.signing import sign, verify
from cards.common_time import competence_label
from cards.common_time_stats import month_label
from cards.i18n import LANGS, Lang, label, t, term_label
from cards.stats import decimal
from mediation.common_time import CommonTimeFigures
from mediation.model import CaseStatus, MeetingKind, Outcome
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.services.common_time import linked_figures
from mediation.stats import (
    Average,
    StatsQueries,
    WrittenLine,
    YearStats,
    shown,
    written_lines,
)

CSV_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


# What a signed link downloads: the figures, or the written answers.
FIGURES, WRITTEN = "stats-csv", "written-csv"
_PATHS = {FIGURES: "/stats/{year}.csv", WRITTEN: "/stats/{year}/written.csv"}


def _message(year: int, lang: str, expires: int, what: str = FIGURES) -> str:
    return f"{what}|{year}|{lang}|{expires}"


def download_url(
    base_url: str,
    key: bytes,
    year: int,
    lang: Lang,
    now: datetime,
    minutes: int,
    what: str = FIGURES,
) -> str:
    expires = int((now + timedelta(minutes=minutes)).timestamp())
    query = urlencode(
        {"lang": lang, "expires": expires, "sig": sign(key, _message(year, lang, expires, what))}
    )
    return f"{base_url}{_PATHS[what].format(year=year)}?{query}"


def link_ok(
    key: bytes,
    year: int,
    lang: str,
    expires: str,
    sig: str,
    now: datetime,
    what: str = FIGURES,
) -> bool:
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12 or lang not in LANGS:
        return False
    if int(expires) < now.timestamp():
        return False
    return verify(key, _message(year, lang, int(expires), what), sig)


def _fmt(lang: Lang, value: float | None) -> str:
    return "" if value is None else decimal(lang, value)


def _average(lang: Lang, avg: Average) -> str:
    """An average as it may leave the coordinators' view; a withheld one says so in words,
    never as "< 5", which would read as a value on the 1-5 scale."""
    if avg.value is None:
        return ""
    return t(lang, "stats.withheld_csv") if avg.withheld else decimal(lang, avg.value)


def rows(lang: Lang, s: YearStats) -> Iterator[list[str]]:
    """(section, item, period, value) rows; counts masked, averages of < 5 answers withheld."""
    year = str(s.year)
    sec = lambda key: t(lang, key)  # noqa: E731
    families = sec("stats.families")
    for term in s.terms:
        period = term_label(lang, term, s.year)
        yield [families, t(lang, "stats.families.total"), period, shown(s.families.get(term, 0))]
        for status in CaseStatus:
            yield [
                families,
                label(lang, "status", status.value),
                period,
                shown(s.status_count(status.value, term)),
            ]
        for outcome in Outcome:
            yield [
                families,
                label(lang, "outcome", outcome.value),
                period,
                shown(s.outcome_count(outcome.value, term)),
            ]
    yield [families, t(lang, "stats.families.total"), year, shown(s.total_families)]
    for outcome in Outcome:
        yield [
            families,
            label(lang, "outcome", outcome.value),
            year,
            shown(s.outcome_count(outcome.value)),
        ]
    for area, n in s.by_area.items():
        yield [sec("stats.by_area"), area, year, shown(n)]
    for source, n in s.by_referral.items():
        yield [sec("stats.by_referral"), label(lang, "referral", source), year, shown(n)]
    timing = sec("stats.timing")
    for key, median in (("stats.to_pair", s.to_pair), ("stats.to_meeting", s.to_first_meeting)):
        # A median over fewer than five families says too much about each of them.
        value = _fmt(lang, median.days) if median.count >= 5 else t(lang, "stats.withheld_csv")
        yield [timing, t(lang, key), year, value if median.count else ""]
    meetings = sec("stats.meetings")
    for term in s.terms:
        for kind in MeetingKind:
            yield [
                meetings,
                t(lang, f"stats.kind.{kind.value}"),
                term_label(lang, term, s.year),
                shown(s.held(kind.value, term)),
            ]
    yield [meetings, t(lang, "stats.meetings.not_held"), year, shown(s.meetings_not_held)]
    c = s.client
    fb = sec("stats.client_feedback")
    yield [fb, t(lang, "stats.links"), year, shown(c.links)]
    yield [fb, t(lang, "stats.answers"), year, shown(c.answers)]
    rate = c.response_rate
    yield [
        fb,
        t(lang, "stats.response_rate"),
        year,
        _fmt(lang, rate) if rate is not None and c.answers >= 5 else "",
    ]
    for key, avg in (
        ("felt_heard", c.felt_heard),
        ("impartial", c.impartial),
        ("child_view", c.child_view),
    ):
        yield [fb, t(lang, f"stats.avg.{key}"), year, _average(lang, avg)]
    m = s.mediator_feedback
    mf = sec("stats.mediator_feedback")
    yield [mf, t(lang, "stats.case_feedback"), year, shown(m.case_answers)]
    for key, avg in (("package", m.package), ("pair", m.pair), ("meeting", m.meeting)):
        yield [mf, t(lang, f"stats.avg.{key}"), year, _average(lang, avg)]
    # Mediators' own workload, not counts of families: shown as is (see the README).
    people = sec("stats.mediators")
    for p in s.mediators:
        for term in s.terms:
            yield [people, p.name, term_label(lang, term, s.year), str(p.packages.get(term, 0))]
        yield [people, p.name, year, f"{p.year_packages}/{p.year_quota}"]
        yield [people, f"{p.name}: {t(lang, 'stats.col.hours')}", year, _fmt(lang, p.hours)]
    for employer, minutes in s.minutes_by_employer.items():
        yield [sec("stats.by_employer"), employer, year, _fmt(lang, minutes / 60)]


def common_time_rows(lang: Lang, year: int, c: CommonTimeFigures) -> Iterator[list[str]]:
    """The common time's rows in the same shape: held by municipality and month, then the
    year's figures; counts masked, a median over fewer than five families withheld."""
    whole = str(year)
    places = t(lang, "commontime.stats.by_place")
    totals: dict[str, int] = {}
    for (municipality, month), n in c.by_municipality_month.items():
        period = t(lang, "commontime.stats.month_year", month=month_label(lang, month), year=year)
        yield [places, municipality, period, shown(n)]
        totals[municipality] = totals.get(municipality, 0) + n
    for municipality, n in totals.items():
        yield [places, municipality, whole, shown(n)]
    section = t(lang, "commontime.stats.title")
    yield [section, t(lang, "commontime.stats.held"), whole, shown(sum(totals.values()))]
    count = c.consent_to_meeting_count
    wait = _fmt(lang, c.days_consent_to_meeting) if count >= 5 else t(lang, "stats.withheld_csv")
    yield [section, t(lang, "commontime.stats.to_meeting"), whole, wait if count else ""]
    yield [section, t(lang, "commontime.stats.plans"), whole, shown(c.plans)]
    yield [section, t(lang, "commontime.stats.followed_up"), whole, shown(c.plans_followed_up)]
    invited = t(lang, "commontime.stats.competences")
    for code, n in c.competences_invited.items():
        yield [invited, competence_label(lang, code), whole, shown(n)]


def csv_bytes(lang: Lang, s: YearStats, common_time: CommonTimeFigures | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            t(lang, k)
            for k in ("stats.csv.section", "stats.csv.item", "stats.csv.period", "stats.csv.value")
        ]
    )
    found = rows(lang, s)
    if common_time is not None:
        found = itertools.chain(found, common_time_rows(lang, s.year, common_time))
    for row in found:
        # A cell starting with = + - @ would be a formula in a spreadsheet.
        writer.writerow([("'" + c) if c[:1] in ("=", "+", "-", "@") else c for c in row])
    return out.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class StatsDownload:
    stats: StatsQueries
    clock: Clock
    policy: BankPolicy
    key: bytes
    units: Callable[[], UnitOfWork]  # for the common time's figures


STATS_DOWNLOAD = web.AppKey("stats_download", StatsDownload)


def add_routes(app: web.Application) -> None:
    """The downloads' routes; the root puts its ``StatsDownload`` under ``STATS_DOWNLOAD``."""
    app.router.add_get(r"/stats/{year:\d{4}}.csv", download)
    app.router.add_get(r"/stats/{year:\d{4}}/written.csv", download_written)


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ would be a formula in a spreadsheet.
    return ("'" + value) if value[:1] in ("=", "+", "-", "@") else value


def written_csv_bytes(lang: Lang, year: int, lines: list[WrittenLine]) -> bytes:
    """The year's written answers: term, writer, answer, and a warning where it may identify."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([t(lang, f"written.csv.{k}") for k in ("term", "source", "text", "warning")])
    for line in lines:
        writer.writerow(
            [
                _safe_cell(c)
                for c in (
                    term_label(lang, line.term, year),
                    t(lang, f"written.source.{line.source}"),
                    line.text,
                    t(lang, "written.may_identify") if line.may_identify else "",
                )
            ]
        )
    return out.getvalue().encode("utf-8-sig")


async def download_written(request: web.Request) -> web.Response:
    """The written answers' CSV, through a signed link that expires."""
    d = request.app[STATS_DOWNLOAD]
    year = int(request.match_info["year"])
    lang = request.query.get("lang", "")
    now = d.clock.now()
    expires, sig = request.query.get("expires", ""), request.query.get("sig", "")
    if not link_ok(d.key, year, lang, expires, sig, now, WRITTEN):
        return web.Response(
            text=t(shown_lang(lang), "stats.download_expired"), status=403, headers=CSV_HEADERS
        )
    lines = written_lines(await d.stats.written(year, d.policy), d.policy.areas)
    return web.Response(
        body=written_csv_bytes(shown_lang(lang), year, lines),
        content_type="text/csv",
        charset="utf-8",
        headers={
            **CSV_HEADERS,
            "Content-Disposition": f'attachment; filename="sopu-written-{year}.csv"',
        },
    )


def shown_lang(lang: str) -> Lang:
    for known in LANGS:
        if lang == known:
            return known
    return "fi"


async def download(request: web.Request) -> web.Response:
    d = request.app[STATS_DOWNLOAD]
    year = int(request.match_info["year"])
    lang = request.query.get("lang", "")
    now = d.clock.now()
    if not link_ok(
        d.key, year, lang, request.query.get("expires", ""), request.query.get("sig", ""), now
    ):
        return web.Response(
            text=t(shown_lang(lang), "stats.download_expired"), status=403, headers=CSV_HEADERS
        )
    stats = await d.stats.year(year, d.policy, now)
    common = await linked_figures(year, d.units(), d.policy)
    return web.Response(
        body=csv_bytes(shown_lang(lang), stats, common),
        content_type="text/csv",
        charset="utf-8",
        headers={
            **CSV_HEADERS,
            "Content-Disposition": f'attachment; filename="sopu-stats-{year}.csv"',
        },
    )
