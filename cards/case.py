"""Cards about one case: the anonymous channel card, the pair's details, and the notices.

Every card here except ``details_card`` is built from a ``CaseSummary`` alone, which by
construction holds nothing that identifies the family; keep it that way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cards import verbs
from cards.base import (
    Card,
    Element,
    action_set,
    card,
    choice_set,
    container,
    execute,
    facts,
    heading,
    plain,
    show_card,
    text,
    text_input,
)
from cards.calendar import cap, kind_label, propose_button
from cards.i18n import Lang, format_date, join_and, label, t, term_label, time_label, tn
from mediation import errors
from mediation.model import CaseStatus, Outcome, ReleaseReason
from mediation.rules import CardSnapshot
from mediation.sharing import AssignChoice, Roster, assign_choices
from mediation.views import CaseDetails, CaseSummary, SeatView

# Statuses in which seats can still be claimed or released (see Case.take_seat/vacate_seat).
_SEATS_MOVE = ("open", "paired")
# Statuses in which a coordinator may close a case (see Case.close).
_CLOSABLE = ("paired", "in_progress", "follow_up")
_ACTIVE = ("open", "paired", "in_progress", "follow_up")
MY_CASES_SHOWN = 40
REASON_MAX = 500
# The data key of what a case card showed when drawn, carried by the buttons that change it.
SHOWN = "shown"
_MAX_SEATS = 10
_MAX_INT = 2**31 - 1  # ids and versions are PostgreSQL integers
_STATUSES = frozenset(s.value for s in CaseStatus)


def summary_facts(summary: CaseSummary, lang: Lang) -> list[tuple[str, str]]:
    """The anonymous facts of a case, as (title, value) pairs."""
    language = label(lang, "language", summary.language)
    if summary.interpreter:
        language = t(lang, "case.with_interpreter", language=language)
    ages = ", ".join(label(lang, "age", band) for band in summary.age_bands)
    children = (
        t(lang, "case.children", count=summary.children, ages=ages)
        if ages
        else str(summary.children)
    )
    times = [time_label(lang, code) for code in summary.preferred_times]
    status = label(lang, "status", summary.status)
    pairs = [
        (t(lang, "case.fact.area"), summary.area),
        (t(lang, "case.fact.term"), term_label(lang, summary.term, summary.year)),
        (t(lang, "case.fact.language"), language),
        (t(lang, "case.fact.children"), children),
        (t(lang, "case.fact.topics"), ", ".join(label(lang, "topic", c) for c in summary.topics)),
        (t(lang, "case.fact.times"), ", ".join(times) if times else t(lang, "case.times_any")),
        (t(lang, "case.fact.status"), status),
    ]
    if summary.outcome:
        pairs.append((t(lang, "case.fact.outcome"), label(lang, "outcome", summary.outcome)))
    return pairs


def seat_line(seat: SeatView, lang: Lang) -> Element:
    """'Seat 1: Aino Virtanen · new mediator' or 'Seat 2: free · needs an experienced mediator'."""
    head = t(lang, "case.seat", n=seat.n)
    if seat.role != "mediator":
        head = t(lang, "case.seat_role", seat=head, role=label(lang, "role", seat.role))
    runs: list[Element] = [{"type": "TextRun", "text": f"{head}: "}]
    if seat.holder_id is None:
        runs.append({"type": "TextRun", "text": t(lang, "case.seat_free"), "color": "Good"})
        if seat.needs_experienced:
            note = t(lang, "case.needs_experienced")
            runs.append({"type": "TextRun", "text": f" · {note}", "color": "Warning"})
    else:
        name = plain(seat.holder_name or "") or t(lang, "case.holder_unknown")
        runs.append({"type": "TextRun", "text": name, "weight": "Bolder"})
        if seat.holder_is_new:
            runs.append(
                {"type": "TextRun", "text": f" · {t(lang, 'case.new_badge')}", "color": "Accent"}
            )
    return {"type": "RichTextBlock", "inlines": runs, "spacing": "Small"}


def _seats_text(summary: CaseSummary, lang: Lang) -> str:
    parts = []
    for seat in summary.seats:
        who = plain(seat.holder_name or "") or (
            t(lang, "case.seat_free") if seat.holder_id is None else t(lang, "case.holder_unknown")
        )
        parts.append(f"{t(lang, 'case.seat', n=seat.n)}: {who}")
    return " · ".join(parts)


def _case_ref(summary: CaseSummary) -> dict[str, int]:
    return {"case_id": summary.case_id}


OPEN = "open"  # a refresh's data: what the answer shows open on top of the card
OPEN_ASSIGN = "assign"


def open_assign(summary: CaseSummary) -> dict[str, object]:
    """The data of the button that shows the assign list, built as the case then stands."""
    return {**_case_ref(summary), OPEN: OPEN_ASSIGN}


def _acting_on(summary: CaseSummary, **extra: str) -> dict[str, object]:
    """A changing button's data: the case and what the card shows of it, for the stale check."""
    shown = {
        "version": summary.version,
        "status": summary.status,
        "holders": [seat.holder_id for seat in summary.seats],
    }
    return {"case_id": summary.case_id, **extra, SHOWN: shown}


def _bounded_int(value: object, limit: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit:
        return value
    raise errors.InvalidInput(SHOWN, "not readable")


def read_card_snapshot(data: Mapping[str, object]) -> CardSnapshot:
    """What the clicked case card showed; a button without it is refused as out of date.

    It can only make the server refuse an action; who clicks and what they may do is
    decided from the registry, never from here.
    """
    shown = data.get(SHOWN)
    if shown is None:
        return CardSnapshot.missing()
    if not isinstance(shown, Mapping):
        raise errors.InvalidInput(SHOWN, "not readable")
    holders = shown.get("holders")
    status = shown.get("status")
    if not isinstance(holders, list) or not 0 < len(holders) <= _MAX_SEATS:
        raise errors.InvalidInput(SHOWN, "not readable")
    if not isinstance(status, str) or status not in _STATUSES:
        raise errors.InvalidInput(SHOWN, "not readable")
    return CardSnapshot(
        version=_bounded_int(shown.get("version"), _MAX_INT),
        status=CaseStatus(status),
        holders=tuple(None if h is None else _bounded_int(h, _MAX_INT) for h in holders),
    )


def _details_button(summary: CaseSummary, lang: Lang) -> Element:
    return execute(t(lang, "case.action.details"), verbs.CASE_DETAILS, _case_ref(summary))


def assign_choice_title(choice: AssignChoice, lang: Lang) -> str:
    """'Outi Osaava · 1/2 this term · worked together once': what the list weighs."""
    title = t(
        lang,
        "assign.load",
        name=plain(choice.name),
        used=choice.term_packages,
        quota=choice.term_quota,
    )
    if choice.worked_together:
        title += " · " + tn(lang, "assign.worked_together", choice.worked_together)
    return title


def assign_form(
    summary: CaseSummary,
    lang: Lang,
    mediators: Sequence[AssignChoice],
    typed: Mapping[str, object] | None = None,
) -> list[Element]:
    """Choose a mediator (in the order of the fair-sharing rule) and a seat; a reason is
    asked when the choice is over quota."""
    typed = typed or {}
    seat_options = [
        (
            str(s.n),
            t(
                lang,
                "coord.seat_choice",
                seat=t(lang, "case.seat", n=s.n),
                holder=plain(s.holder_name or "") or t(lang, "case.seat_free"),
            ),
        )
        for s in summary.seats
    ]

    def kept(key: str) -> str | None:
        value = typed.get(key)
        return str(value)[:REASON_MAX] if isinstance(value, str | int) and value != "" else None

    return [
        text(t(lang, "assign.order_note"), subtle=True, size="Small"),
        choice_set(
            "mediator_id",
            t(lang, "coord.mediator"),
            [(str(c.mediator_id), assign_choice_title(c, lang)) for c in mediators],
            style="filtered",
            value=kept("mediator_id"),
            placeholder=t(lang, "coord.mediator_placeholder"),
            required_message=t(lang, "problem.choose_mediator"),
        ),
        choice_set(
            "seat",
            t(lang, "coord.seat"),
            seat_options,
            value=kept("seat"),
            placeholder=t(lang, "coord.seat_placeholder"),
        ),
        text_input(
            "override_reason",
            t(lang, "coord.override_reason"),
            value=kept("override_reason"),
            max_length=REASON_MAX,
        ),
    ]


def _meetings_ahead(summary: CaseSummary, lang: Lang) -> list[Element]:
    """What closing or cancelling does to the booked meetings still to come."""
    if not summary.meetings_ahead:
        return []
    lines = [
        t(
            lang,
            "close.meeting_line",
            kind=cap(kind_label(lang, m.kind, m.parent_no)),
            day=format_date(lang, m.starts_at.date()),
            time=t(lang, "calendar.clock", h=m.starts_at.hour, m=f"{m.starts_at.minute:02}"),
        )
        for m in summary.meetings_ahead
    ]
    return [
        text(tn(lang, "close.meetings_ahead", len(lines)), weight="Bolder", color="Warning"),
        text("\n".join(f"- {line}" for line in lines), spacing="Small"),
    ]


def assign_submit(summary: CaseSummary, lang: Lang) -> Element:
    return execute(t(lang, "coord.assign_submit"), verbs.CASE_ASSIGN, _acting_on(summary))


def _coordinator_tools(summary: CaseSummary, lang: Lang, mediators: Roster | None) -> Element:
    tools: list[Element] = []
    if mediators is not None and mediators.names:
        # The assign list weighs every mediator's load, which other cases change: it is
        # built fresh for the coordinator who asks (the answer shows it open on top), never
        # kept on the shared card, which would then be out of date after any other claim.
        tools.append(execute(t(lang, "coord.assign"), verbs.CARD_REFRESH, open_assign(summary)))
    if summary.status in _CLOSABLE:
        tools.append(
            show_card(
                t(lang, "coord.close"),
                [
                    *_meetings_ahead(summary, lang),
                    choice_set(
                        "outcome",
                        t(lang, "coord.outcome"),
                        [(o.value, label(lang, "outcome", o.value)) for o in Outcome],
                        placeholder=t(lang, "coord.outcome_placeholder"),
                        required_message=t(lang, "coord.outcome_required"),
                    ),
                ],
                [execute(t(lang, "coord.close_submit"), verbs.CASE_CLOSE, _acting_on(summary))],
            )
        )
    tools.append(
        show_card(
            t(lang, "coord.cancel"),
            [
                text(t(lang, "coord.cancel_note"), subtle=True),
                *_meetings_ahead(summary, lang),
                text_input("reason", t(lang, "coord.cancel_reason"), max_length=REASON_MAX),
            ],
            [
                execute(
                    t(lang, "coord.cancel_submit"),
                    verbs.CASE_CANCEL,
                    _acting_on(summary),
                    style="destructive",
                )
            ],
        )
    )
    return show_card(t(lang, "coord.title"), [text(t(lang, "coord.note"), subtle=True)], tools)


def case_card(
    summary: CaseSummary,
    lang: Lang,
    *,
    mediators: Roster | None = None,
    notice: str | None = None,
    notice_is_error: bool = False,
    assign_typed: Mapping[str, object] | None = None,
    viewer: str | None = None,
) -> Card:
    """The anonymous card in the bank channel: the facts a mediator needs to claim a seat.

    It is the same for everyone who sees it (no per-user refresh): the server decides who
    may claim, release, see details or use the coordinator's tools. ``mediators`` are whom
    the coordinator's assign list offers, fewest packages this term first. ``assign_typed`` is a
    refused assignment's form data: the clicker's answer then shows the form open and filled
    (the list needs ``mediators`` weighed, not ``Roster.names_only``).
    ``viewer`` is the clicker whose answer this card is: only a seat holder's answer offers
    "Release my seat" (the shared card leaves it to the details card and to answers).
    """
    body: list[Element] = []
    if notice:
        body.append(
            text(notice, weight="Bolder", color="Attention" if notice_is_error else "Accent")
        )
    form_open = (
        assign_typed is not None
        and mediators is not None
        and bool(mediators.names)
        and summary.status in _ACTIVE
    )
    if form_open and mediators is not None:
        body.append(
            container(
                [
                    heading(t(lang, "coord.assign")),
                    *assign_form(summary, lang, assign_choices(mediators, summary), assign_typed),
                    action_set([assign_submit(summary, lang)]),
                ],
                style="emphasis",
            )
        )
    body.append(heading(t(lang, "case.title", code=summary.code)))
    body.append(facts(summary_facts(summary, lang)))
    body.append(text(t(lang, "case.seats"), weight="Bolder"))
    body.extend(seat_line(seat, lang) for seat in summary.seats)
    if summary.status in _SEATS_MOVE:
        body.append(text(t(lang, "case.pair_rule"), subtle=True, size="Small"))
    body.append(text(t(lang, "case.privacy_note"), subtle=True, size="Small"))

    actions: list[Element] = []
    if summary.status == "open":
        actions.append(
            execute(
                t(lang, "case.action.claim"),
                verbs.CASE_CLAIM,
                _acting_on(summary),
                style="positive",
            )
        )
    if summary.status in _SEATS_MOVE and summary.held_by(viewer):
        actions.append(
            execute(t(lang, "case.action.release"), verbs.CASE_RELEASE, _acting_on(summary))
        )
    actions.append(_details_button(summary, lang))
    if summary.status in _ACTIVE:
        # An assign form open on top is not offered again among the tools (one set of ids).
        actions.append(_coordinator_tools(summary, lang, None if form_open else mediators))
    actions.append(execute(t(lang, "case.action.refresh"), verbs.CARD_REFRESH, _case_ref(summary)))
    return card(lang, body, actions)


# The longest run of letters a card shows without a place where the line may break.
UNBROKEN_MAX = 20
_ZERO_WIDTH_SPACE = "\u200b"


def breakable(value: str) -> str:
    """Long runs without spaces get invisible break points, so a narrow screen wraps them."""
    words = []
    for word in value.split(" "):
        chunks = [word[i : i + UNBROKEN_MAX] for i in range(0, len(word), UNBROKEN_MAX)]
        words.append(_ZERO_WIDTH_SPACE.join(chunks))
    return " ".join(words)


def _weekdays(codes: Sequence[str], lang: Lang) -> str:
    return ", ".join(t(lang, f"weekday.{code}") for code in codes)


def details_card(details: CaseDetails, lang: Lang, *, coordinator: bool = False) -> Card:
    """The family's details for the pair and the coordinators, in personal chat only."""
    summary = details.summary
    body: list[Element] = [
        heading(t(lang, "details.title", code=summary.code)),
        text(t(lang, "details.confidential"), color="Attention", size="Small"),
    ]
    if details.safety_concern_open:
        body.append(
            container(
                [
                    text(t(lang, "details.safety_title"), weight="Bolder", color="Attention"),
                    text(t(lang, "details.safety_text"), spacing="Small"),
                    *(
                        [
                            action_set(
                                [
                                    execute(
                                        t(lang, "details.clear_safety"),
                                        verbs.CASE_CLEAR_SAFETY,
                                        _case_ref(summary),
                                    )
                                ]
                            )
                        ]
                        if coordinator
                        else []
                    ),
                ],
                style="attention",
            )
        )
    body.append(
        facts(
            [
                *summary_facts(summary, lang),
                (t(lang, "details.referral"), label(lang, "referral", details.referral_source)),
                (t(lang, "details.package"), tn(lang, "details.meetings", details.package_size)),
                *(
                    [(t(lang, "field.excluded_days"), _weekdays(details.excluded_days, lang))]
                    if details.excluded_days
                    else []
                ),
            ]
        )
    )
    missing = t(lang, "details.missing")
    for n, parent in enumerate(details.family.parents, start=1):
        body.append(text(t(lang, "details.parent", n=n), weight="Bolder", separator=True))
        # A name in a text block, with room to break: a fact's value is cut off at the edge.
        body.append(text(breakable(plain(parent.name)), spacing="Small"))
        body.append(
            facts(
                [
                    (t(lang, "details.phone"), plain(parent.phone) or missing),
                    (t(lang, "details.email"), plain(parent.email) or missing),
                ]
            )
        )
    if details.family.children:
        children = [
            t(lang, "details.child_named", year=c.birth_year, name=plain(c.first_name))
            if c.first_name
            else str(c.birth_year)
            for c in details.family.children
        ]
        body.append(text(t(lang, "details.children"), weight="Bolder", separator=True))
        body.append(text(", ".join(children), spacing="Small"))
    body.append(text(t(lang, "case.seats"), weight="Bolder", separator=True))
    body.extend(seat_line(seat, lang) for seat in summary.seats)
    body.append(text(t(lang, "details.logged"), subtle=True, size="Small", separator=True))

    actions: list[Element] = []
    if summary.status in _SEATS_MOVE:
        actions.append(
            execute(
                t(lang, "details.release_conflict"),
                verbs.CASE_RELEASE,
                _acting_on(summary, reason=ReleaseReason.CONFLICT_OF_INTEREST.value),
            )
        )
        actions.append(
            execute(
                t(lang, "details.release_withdraw"),
                verbs.CASE_RELEASE,
                _acting_on(summary, reason=ReleaseReason.WITHDRAW.value),
            )
        )
    if summary.status in _CLOSABLE:  # the pair is complete: the meetings can be booked
        actions.insert(0, propose_button(summary.case_id, lang))
    return card(lang, body, actions)


def my_cases_card(summaries: Sequence[CaseSummary], lang: Lang) -> Card:
    """The user's active cases, each with its seats and a Details button."""
    body: list[Element] = [heading(t(lang, "my_cases.title"))]
    if not summaries:
        body.append(text(t(lang, "my_cases.none")))
    for summary in summaries[:MY_CASES_SHOWN]:
        line = t(
            lang,
            "my_cases.line",
            code=summary.code,
            status=label(lang, "status", summary.status),
            area=summary.area,
        )
        body.append(
            container(
                [
                    text(line),
                    text(_seats_text(summary, lang), subtle=True, spacing="None"),
                    action_set([_details_button(summary, lang)]),
                ],
                separator=True,
            )
        )
    hidden = len(summaries) - MY_CASES_SHOWN
    if hidden > 0:
        body.append(text(tn(lang, "my_cases.more", hidden), subtle=True))
    return card(lang, body)


def pair_complete_card(summary: CaseSummary, lang: Lang) -> Card:
    """To both mediators: the pair is complete, check the details for a conflict of interest."""
    names = [plain(s.holder_name or "") or t(lang, "case.holder_unknown") for s in summary.seats]
    return card(
        lang,
        [
            heading(t(lang, "pair.title", code=summary.code)),
            text(t(lang, "pair.text", code=summary.code, names=join_and(lang, names))),
            text(t(lang, "pair.conflict_hint"), subtle=True),
        ],
        [_details_button(summary, lang)],
    )


def seat_released_card(summary: CaseSummary, mediator_name: str, reason: str, lang: Lang) -> Card:
    """To the coordinators: who left which case, why, and where the case now stands."""
    return card(
        lang,
        [
            heading(t(lang, "released.title", code=summary.code)),
            text(t(lang, f"released.{reason}", name=plain(mediator_name), code=summary.code)),
            text(
                t(
                    lang,
                    "released.state",
                    status=label(lang, "status", summary.status),
                    free=tn(lang, "released.free", summary.open_seats),
                )
            ),
            *(seat_line(seat, lang) for seat in summary.seats),
        ],
        [_details_button(summary, lang)],
    )


def case_posted_card(summary: CaseSummary, lang: Lang) -> Card:
    """To the coordinator after intake: the anonymous card is in the bank channel."""
    return card(
        lang,
        [
            heading(t(lang, "posted.title", code=summary.code)),
            text(t(lang, "posted.text", code=summary.code)),
            facts(summary_facts(summary, lang)),
        ],
        [_details_button(summary, lang)],
    )
