"""The coordinators' cards of families' contact requests: one request, and the queue."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cards import verbs
from cards.base import (
    Card,
    Element,
    card,
    choice_set,
    container,
    execute,
    facts,
    heading,
    plain,
    show_card,
    text,
)
from cards.i18n import Lang, format_date, label, t, tn
from cards.intake import intake_form
from mediation.requests import (
    NOT_SUITABLE_REASONS,
    OUTSIDE_AREA,
    REFERRALS,
    ContactRequest,
    RequestFigures,
    RequestStatus,
)

# The queue card lists the first requests waiting and says how many more there are: after a
# flood the whole queue would not fit Teams' 28 KB, nor be read by anyone. Serialized as the
# Bot Framework sends it, the card stays under the budget.
QUEUE_SHOWN = 50
QUEUE_BUDGET = 24_000


@dataclass(frozen=True)
class RequestView:
    """A request as a coordinator's card shows it, with the names its ids stand for."""

    request: ContactRequest
    names: Mapping[int, str]  # mediator id -> name, for who took and who judged it
    zone: ZoneInfo
    max_attempts: int
    case_code: str | None = None  # the case a suitable request became
    cases: tuple[tuple[int, str], ...] = ()  # cases going on (id, code), for the other parent
    viewer: int | None = None  # the coordinator the card is for, when known


def _moment(lang: Lang, moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{format_date(lang, local.date())} {local:%H:%M}"


def _status(lang: Lang, view: RequestView) -> str:
    request = view.request
    who = view.names.get(request.taken_by or 0, "?")
    if request.status is RequestStatus.TAKEN:
        if request.taken_at is None:
            return t(lang, "request.status.taken", name=plain(who))
        when = _moment(lang, request.taken_at, view.zone)
        return t(lang, "request.status.taken_at", name=plain(who), when=when)
    if request.status is RequestStatus.SUITABLE and view.case_code:
        return t(lang, "request.status.case", code=view.case_code)
    if request.status is RequestStatus.NOT_SUITABLE:
        return t(
            lang,
            "request.status.not_suitable_because",
            reason=t(lang, f"request.reason.{request.reason}"),
            referred=t(lang, f"request.referral.{request.referred_to}"),
        )
    return t(lang, f"request.status.{request.status.value}")


def _data(request: ContactRequest) -> dict[str, int]:
    return {"request_id": request.id, "version": request.version}


def _actions(lang: Lang, view: RequestView) -> list[Element]:
    request = view.request
    data = _data(request)
    if request.status is RequestStatus.SUITABLE and request.case_id is None:
        return [execute(t(lang, "request.action.intake"), verbs.REQUEST_INTAKE, data)]
    if request.status not in (RequestStatus.NEW, RequestStatus.TAKEN):
        return []
    found: list[Element] = []
    if request.status is RequestStatus.NEW:
        found.append(
            execute(t(lang, "request.action.take"), verbs.REQUEST_TAKE, data, style="positive")
        )
    elif view.viewer is None or view.viewer != request.taken_by:
        # Someone else holds it (or the card goes to several people): it can be taken over.
        found.append(execute(t(lang, "request.action.take_over"), verbs.REQUEST_TAKE_OVER, data))
    found.append(execute(t(lang, "request.action.attempt"), verbs.REQUEST_ATTEMPT, data))
    found.append(execute(t(lang, "request.action.suitable"), verbs.REQUEST_SUITABLE, data))
    found.append(
        show_card(
            t(lang, "request.action.not_suitable"),
            [
                choice_set(
                    "reason",
                    t(lang, "request.field.reason"),
                    [(c, t(lang, f"request.reason.{c}")) for c in NOT_SUITABLE_REASONS],
                    placeholder=t(lang, "intake.choose"),
                    required_message=t(lang, "request.problem.reason"),
                ),
                choice_set(
                    "referred_to",
                    t(lang, "request.field.referred_to"),
                    [(c, t(lang, f"request.referral.{c}")) for c in REFERRALS],
                    placeholder=t(lang, "intake.choose"),
                    required_message=t(lang, "request.problem.referred_to"),
                ),
            ],
            [
                execute(
                    t(lang, "request.action.not_suitable_send"), verbs.REQUEST_NOT_SUITABLE, data
                )
            ],
        )
    )
    if view.cases:
        found.append(
            show_card(
                t(lang, "request.action.same_family"),
                [
                    text(t(lang, "request.same_family_note"), size="Small", subtle=True),
                    choice_set(
                        "case_id",
                        t(lang, "request.field.case"),
                        [(str(i), code) for i, code in reversed(view.cases)],
                        placeholder=t(lang, "intake.choose"),
                        required_message=t(lang, "request.problem.case_id"),
                    ),
                ],
                [
                    execute(
                        t(lang, "request.action.same_family_send"),
                        verbs.REQUEST_SAME_FAMILY,
                        data,
                    )
                ],
            )
        )
    if request.attempts >= view.max_attempts:
        found.append(execute(t(lang, "request.action.no_answer"), verbs.REQUEST_NO_ANSWER, data))
    return found


def request_card(
    view: RequestView, lang: Lang, notice: str | None = None, *, notice_is_error: bool = False
) -> Card:
    """One request with everything the first call needs, and what may be done with it now."""
    request, form = view.request, view.request.form
    body: list[Element] = []
    if notice:
        body.append(text(notice, color="Attention" if notice_is_error else "Good", weight="Bolder"))
    body.append(heading(t(lang, "request.title", n=request.id)))
    if form.urgent:
        body.append(
            container(
                [
                    text(t(lang, "request.urgent"), weight="Bolder", color="Attention"),
                    text(t(lang, "request.urgent_note"), size="Small"),
                ],
                style="attention",
            )
        )
    municipality = (
        t(lang, "contact.municipality.other")
        if form.municipality == OUTSIDE_AREA
        else plain(form.municipality)
    )
    times = ", ".join(t(lang, f"contact.call_times.{c}") for c in form.call_times)
    body.append(
        facts(
            [
                (t(lang, "request.field.received"), _moment(lang, request.created_at, view.zone)),
                (t(lang, "request.field.name"), plain(form.parent_name)),
                (t(lang, "request.field.phone"), plain(form.phone) or "-"),
                (t(lang, "request.field.email"), plain(form.email) or "-"),
                (t(lang, "request.field.call_times"), times or t(lang, "request.any_time")),
                (t(lang, "request.field.language"), t(lang, f"contact.language.{form.language}")),
                (t(lang, "request.field.municipality"), municipality),
                (
                    t(lang, "request.field.children"),
                    ", ".join(str(y) for y in form.child_birth_years),
                ),
                (
                    t(lang, "request.field.topics"),
                    ", ".join(label(lang, "topic", c) for c in form.topics),
                ),
                (
                    t(lang, "request.field.other_parent_knows"),
                    t(lang, f"contact.knows.{form.other_parent_knows}"),
                ),
                (
                    t(lang, "request.field.fear"),
                    t(lang, f"contact.fear.{'yes' if form.urgent else 'no'}"),
                ),
                (t(lang, "request.field.status"), _status(lang, view)),
                (
                    t(lang, "request.field.attempts"),
                    t(lang, "request.attempts", made=request.attempts, limit=view.max_attempts)
                    + (
                        f" ({_moment(lang, request.last_call_at, view.zone)})"
                        if request.last_call_at
                        else ""
                    ),
                ),
            ]
        )
    )
    body.append(text(t(lang, "request.private"), subtle=True, size="Small"))
    return card(lang, body, _actions(lang, view))


def queue_card(
    views: Sequence[RequestView],
    lang: Lang,
    year: int,
    notice: str | None = None,
    *,
    waiting: int | None = None,
) -> Card:
    """The requests waiting, in the order given (urgent first, then the oldest): the first
    ``QUEUE_SHOWN`` that fit the card's budget, and how many more wait of ``waiting`` (all of
    them; by default as many as ``views``); any one opens as its own card."""
    total = len(views) if waiting is None else max(waiting, len(views))
    body: list[Element] = []
    if notice:
        body.append(text(notice, weight="Bolder"))
    body.append(heading(t(lang, "requests.title")))
    figures = execute(t(lang, "requests.figures", year=year), verbs.REQUEST_FIGURES, {"year": year})
    if not views:
        body.append(text(t(lang, "requests.empty")))
        return card(lang, body, [figures])
    options: list[tuple[str, str]] = []
    size = len(json.dumps(body))
    for view in views[:QUEUE_SHOWN]:
        request = view.request
        municipality = request.form.municipality
        if municipality == OUTSIDE_AREA:
            municipality = t(lang, "contact.municipality.other")
        else:
            municipality = plain(municipality)
        line = t(
            lang,
            "requests.line",
            n=request.id,
            received=_moment(lang, request.created_at, view.zone),
            municipality=municipality,
            status=_status(lang, view),
        )
        if request.form.urgent:
            line = f"{t(lang, 'request.urgent')} · {line}"
        item = text(line, color="Attention" if request.form.urgent else None, separator=True)
        option = (str(request.id), t(lang, "requests.option", n=request.id))
        choice = {"title": option[1], "value": option[0]}
        cost = len(json.dumps([item, choice]))
        if size + cost > QUEUE_BUDGET:
            break
        size += cost
        body.append(item)
        options.append(option)
    if len(options) < total:
        body.append(text(tn(lang, "requests.more", total - len(options)), weight="Bolder"))
    body.append(
        choice_set(
            "request_id",
            t(lang, "requests.choose"),
            options,
            style="filtered",
            value=options[0][0],
            required_message=t(lang, "requests.choose"),
        )
    )
    return card(lang, body, [execute(t(lang, "requests.open"), verbs.REQUEST_SHOW, {}), figures])


def _days(lang: Lang, value: float | None) -> str:
    return "-" if value is None else t(lang, "figures.days", days=f"{value:.1f}")


def figures_card(figures: RequestFigures, lang: Lang) -> Card:
    """A year's contact requests for the joint meetings: how many, how fast, with what result."""
    share = figures.suitable_share
    months = [
        (t(lang, "figures.month", month=n + 1, year=figures.year), str(count))
        for n, count in enumerate(figures.per_month)
        if count
    ]
    reasons = [
        (t(lang, f"request.reason.{code}"), str(count))
        for code, count in sorted(figures.not_suitable.items(), key=lambda item: -item[1])
    ]
    body: list[Element] = [
        heading(t(lang, "figures.title", year=figures.year)),
        facts(
            [
                (t(lang, "figures.total"), str(figures.total)),
                (t(lang, "figures.urgent"), str(figures.urgent)),
                (t(lang, "figures.waiting"), str(figures.waiting)),
                (
                    t(lang, "figures.suitable"),
                    str(figures.suitable) + ("" if share is None else f" ({share:.0%})"),
                ),
                (t(lang, "figures.not_suitable"), str(sum(figures.not_suitable.values()))),
                (t(lang, "figures.no_answer"), str(figures.no_answer)),
                (t(lang, "figures.to_first_call"), _days(lang, figures.days_to_first_call)),
                (t(lang, "figures.to_first_meeting"), _days(lang, figures.days_to_first_meeting)),
            ]
        ),
    ]
    if months:
        body += [text(t(lang, "figures.per_month"), weight="Bolder"), facts(months)]
    if reasons:
        body += [text(t(lang, "figures.reasons"), weight="Bolder"), facts(reasons)]
    body.append(text(t(lang, "figures.source"), subtle=True, size="Small"))
    return card(lang, body)


def request_intake_form(
    lang: Lang,
    request_id: int,
    values: Mapping[str, object],
    problems: Mapping[str, str] | None = None,
    *,
    family_language: str = "",
) -> Card:
    """The intake form prefilled from a suitable request; saving it links the new case.

    ``family_language``: the language the parent chose on the contact form; English, which
    the intake does not list, is said on the form."""
    form = intake_form(lang, values, problems)
    form["body"].insert(1, text(t(lang, "request.intake_note", n=request_id), weight="Bolder"))
    if family_language == "en":
        form["body"].insert(2, text(t(lang, "request.intake_english"), color="Warning"))
    form["actions"] = [
        execute(t(lang, "intake.submit"), verbs.REQUEST_CREATE_CASE, {"request_id": request_id})
    ]
    return form
