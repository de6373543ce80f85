"""Cards about a case's meetings: proposed times, the package so far, recording a meeting.

These cards show the case code and meeting types only, never a family's names, so they can be
sent to the pair's personal chats and forwarded by the scheduler without a privacy review.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

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
    show_card,
    text,
    text_input,
)
from cards.i18n import Lang, error_text, t
from mediation import errors
from mediation.calendar import MeetingChanged, MeetingView, Proposal
from mediation.model import MeetingKind, MeetingStatus
from mediation.slots import WEEKDAY_CODES, Slot

MESSAGE_MAX = 500
_BOOKABLE = ("paired", "in_progress", "follow_up")


def kind_label(lang: Lang, kind: MeetingKind | str, parent_no: int | None = None) -> str:
    """'Individual meeting (parent 1)', 'Joint meeting', ..."""
    code = MeetingKind(kind).value
    if parent_no is not None:
        return t(lang, f"calendar.kind.{code}.parent", n=parent_no)
    return t(lang, f"calendar.kind.{code}")


def cap(value: str) -> str:
    """The first letter in capitals, for a label that starts a line."""
    return value[:1].upper() + value[1:]


def clock_label(lang: Lang, moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return t(lang, "calendar.clock", h=local.hour, m=f"{local.minute:02}")


def when_label(lang: Lang, start: datetime, end: datetime, zone: str) -> str:
    """'ti 3.3.2026 klo 9.00–10.00', 'Tue 2026-03-03 9:00–10:00': the bank's time zone, the
    reader's words, and in English the same ISO dates as everywhere else in Sopu."""
    local = start.astimezone(ZoneInfo(zone))
    return t(
        lang,
        "calendar.when",
        weekday=t(lang, f"calendar.weekday.{WEEKDAY_CODES[local.weekday()]}"),
        day=local.day,
        month=local.month,
        year=local.year,
        start=clock_label(lang, start, zone),
        end=clock_label(lang, end, zone),
    )


def calendar_pending(lang: Lang, notice: str, problem: errors.DomainError | None) -> str:
    """A saved change's notice and, if the calendar has not taken it yet, what it answered
    (the scheduler's push tries again)."""
    if problem is None:
        return notice
    return f"{notice}\n\n{t(lang, 'calendar.notice.pending', reason=error_text(lang, problem))}"


def slot_value(slot: Slot) -> str:
    """A slot as a choice value: its start as an ISO moment in UTC."""
    return slot.start.isoformat(timespec="minutes")


def slot_title(lang: Lang, slot: Slot, zone: str) -> str:
    title = when_label(lang, slot.start, slot.end, zone)
    if slot.preferred:
        title = t(lang, "calendar.slot.preferred", time=title)
    if slot.tentative:
        title = t(lang, "calendar.slot.tentative", time=title)
    return title


def _status(lang: Lang, m: MeetingView) -> str:
    if m.status is MeetingStatus.HELD and m.held_minutes:
        return t(lang, "calendar.status.held_minutes", minutes=m.held_minutes)
    status = t(lang, f"calendar.status.{m.status.value}")
    if m.calendar_pending:
        status = t(lang, "calendar.status.pending", status=status)
    return status


def _meeting_tools(lang: Lang, m: MeetingView, now: datetime | None) -> list[Element]:
    ref = {"case_id": m.case_id, "meeting_id": m.meeting_id}
    tools: list[Element] = []
    if m.status is MeetingStatus.BOOKED:
        if now is not None and now >= m.starts_at:
            tools.append(
                execute(t(lang, "calendar.action.record"), verbs.MEETING_RECORD, {**ref, "form": 1})
            )
        else:
            tools.append(execute(t(lang, "calendar.action.move"), verbs.MEETINGS_PROPOSE, ref))
            tools.append(
                show_card(
                    t(lang, "calendar.action.cancel"),
                    [
                        text_input(
                            "message",
                            t(lang, "calendar.cancel.message"),
                            style="text",
                            max_length=MESSAGE_MAX,
                        )
                    ],
                    [
                        execute(
                            t(lang, "calendar.cancel.submit"),
                            verbs.MEETING_CANCEL,
                            ref,
                            style="destructive",
                        )
                    ],
                )
            )
        if m.calendar_pending:
            tools.append(execute(t(lang, "calendar.action.retry"), verbs.MEETINGS_BOOK, ref))
    return tools


def package_section(
    lang: Lang,
    meetings: Sequence[MeetingView],
    package_size: int,
    zone: str,
    now: datetime | None = None,
) -> list[Element]:
    """The package so far: each meeting with its time and status, and what can be done."""
    live = [m for m in meetings if m.status is not MeetingStatus.CANCELLED]
    body: list[Element] = [
        text(
            t(lang, "calendar.package.title", count=len(live), size=package_size),
            weight="Bolder",
            separator=True,
        )
    ]
    if not meetings:
        body.append(text(t(lang, "calendar.package.none"), subtle=True, spacing="Small"))
    for m in meetings:
        line = t(
            lang,
            "calendar.package.line",
            kind=cap(kind_label(lang, m.kind, m.parent_no)),
            when=when_label(lang, m.starts_at, m.ends_at, zone),
            status=_status(lang, m),
        )
        tools = _meeting_tools(lang, m, now)
        items: list[Element] = [text(line, spacing="Small", subtle=m.status.value == "cancelled")]
        if tools:
            items.append({"type": "ActionSet", "actions": tools})
        body.append(container(items))
    return body


def _notice(notice: str | None, error: bool) -> list[Element]:
    if not notice:
        return []
    return [text(notice, weight="Bolder", color="Attention" if error else "Good")]


def _kind_buttons(lang: Lang, proposal: Proposal) -> list[Element]:
    ref = {"case_id": proposal.case_id}
    options: list[tuple[MeetingKind, int | None]] = [
        (MeetingKind.INDIVIDUAL, 1),
        (MeetingKind.INDIVIDUAL, 2),
        (MeetingKind.JOINT, None),
        (MeetingKind.CHILD, None),
        (MeetingKind.FOLLOW_UP, None),
    ]
    buttons = []
    for kind, parent in options:
        if (kind, parent) == (proposal.kind, proposal.parent_no):
            continue
        data: dict[str, object] = {**ref, "kind": kind.value}
        if parent is not None:
            data["parent_no"] = parent
        buttons.append(execute(cap(kind_label(lang, kind, parent)), verbs.MEETINGS_PROPOSE, data))
    return buttons


def proposal_card(
    proposal: Proposal,
    lang: Lang,
    *,
    now: datetime | None = None,
    feed_url: str | None = None,
    notice: str | None = None,
    notice_is_error: bool = False,
) -> Card:
    """Times both mediators are free for the next meeting, and the package so far."""
    kind = kind_label(lang, proposal.kind, proposal.parent_no)
    moving = proposal.moving
    title_key = "calendar.propose.move_title" if moving else "calendar.propose.title"
    body: list[Element] = [
        *_notice(notice, notice_is_error),
        heading(t(lang, title_key, code=proposal.code, kind=kind)),
    ]
    if moving is not None:
        body.append(
            text(
                t(
                    lang,
                    "calendar.propose.now_at",
                    when=when_label(lang, moving.starts_at, moving.ends_at, proposal.zone),
                ),
                spacing="Small",
            )
        )
    actions: list[Element] = []
    if proposal.blocked is not None:
        body.append(
            container(
                [text(error_text(lang, proposal.blocked), color="Attention")], style="attention"
            )
        )
    elif not proposal.slots:
        body.append(text(t(lang, "calendar.propose.none"), color="Warning"))
    else:
        body.append(text(t(lang, "calendar.propose.intro", minutes=proposal.minutes), subtle=True))
        body.append(
            choice_set(
                "start",
                t(lang, "calendar.propose.slot_label"),
                [(slot_value(s), slot_title(lang, s, proposal.zone)) for s in proposal.slots],
                style="expanded",
                value=slot_value(proposal.slots[0]),
                required_message=t(lang, "calendar.propose.choose"),
            )
        )
        if moving is not None:
            data: dict[str, object] = {"case_id": proposal.case_id, "meeting_id": moving.meeting_id}
            actions.append(
                execute(
                    t(lang, "calendar.propose.move"), verbs.MEETING_MOVE, data, style="positive"
                )
            )
        else:
            data = {"case_id": proposal.case_id, "kind": proposal.kind.value}
            if proposal.parent_no is not None:
                data["parent_no"] = proposal.parent_no
            actions.append(
                execute(
                    t(lang, "calendar.propose.book"), verbs.MEETINGS_BOOK, data, style="positive"
                )
            )
    body.extend(package_section(lang, proposal.meetings, proposal.package_size, proposal.zone, now))
    if feed_url:
        body.append(text(t(lang, "calendar.feed", url=feed_url), subtle=True, size="Small"))
        # The address is a secret: whoever saw it can be shut out by making a new one.
        rotate = {"case_id": proposal.case_id}
        body.append(
            action_set(
                [execute(t(lang, "calendar.feed.rotate"), verbs.MEETINGS_FEED_ROTATE, rotate)]
            )
        )
    if moving is None and proposal.status in _BOOKABLE:
        actions.append(
            show_card(
                t(lang, "calendar.propose.other"),
                [text(t(lang, "calendar.propose.other_note"), subtle=True)],
                _kind_buttons(lang, proposal),
            )
        )
    return card(lang, body, actions)


def meetings_card(
    proposal: Proposal,
    lang: Lang,
    *,
    now: datetime | None = None,
    notice: str | None = None,
    notice_is_error: bool = False,
) -> Card:
    """The package after a booking, move or cancellation, with a button for the next one."""
    body: list[Element] = [
        *_notice(notice, notice_is_error),
        heading(t(lang, "calendar.meetings.title", code=proposal.code)),
        *package_section(lang, proposal.meetings, proposal.package_size, proposal.zone, now),
    ]
    actions = [
        execute(
            t(lang, "calendar.action.propose_next"),
            verbs.MEETINGS_PROPOSE,
            {"case_id": proposal.case_id},
        )
    ]
    return card(lang, body, actions)


def record_card(
    meeting: MeetingView,
    lang: Lang,
    zone: str,
    *,
    extra: Sequence[Element] = (),
    notice: str | None = None,
    notice_is_error: bool = False,
) -> Card:
    """Ask the pair whether a meeting was held and how long it took.

    ``extra`` are further inputs submitted with the same button (the feedback part).
    """
    when = when_label(lang, meeting.starts_at, meeting.ends_at, zone)
    held = meeting.status is MeetingStatus.HELD
    answered = meeting.status in (MeetingStatus.HELD, MeetingStatus.NOT_HELD)
    body: list[Element] = [
        *_notice(notice, notice_is_error),
        heading(t(lang, "calendar.record.title", code=meeting.code)),
        facts(
            [
                (
                    t(lang, "calendar.record.meeting"),
                    cap(kind_label(lang, meeting.kind, meeting.parent_no)),
                ),
                (t(lang, "calendar.record.when"), when),
            ]
        ),
        choice_set(
            "held",
            t(lang, "calendar.record.held_label"),
            [("yes", t(lang, "calendar.record.held")), ("no", t(lang, "calendar.record.not_held"))],
            style="expanded",
            value=("yes" if held else "no") if answered else None,
            required_message=t(lang, "calendar.record.required"),
        ),
        {
            "type": "Input.Number",
            "id": "minutes",
            "label": t(lang, "calendar.record.minutes"),
            "min": 1,
            "max": 480,
            "value": meeting.held_minutes or meeting.planned_minutes or 60,
        },
        text(t(lang, "calendar.record.minutes_note"), subtle=True, size="Small", spacing="None"),
        *extra,
    ]
    ref = {"case_id": meeting.case_id, "meeting_id": meeting.meeting_id}
    actions = [
        execute(t(lang, "calendar.record.submit"), verbs.MEETING_RECORD, ref, style="positive")
    ]
    return card(lang, body, actions)


def meeting_changed_card(change: MeetingChanged, lang: Lang, zone: str) -> Card:
    """To the pair: a meeting was moved or cancelled in Outlook, and Sopu followed."""
    kind = kind_label(lang, change.kind, change.parent_no)
    when = when_label(lang, change.starts_at, change.ends_at, zone)
    return card(
        lang,
        [
            heading(t(lang, f"calendar.changed.{change.how}.title", code=change.code)),
            text(t(lang, f"calendar.changed.{change.how}.text", kind=kind, when=when)),
        ],
        [
            execute(
                t(lang, "calendar.action.propose_next"),
                verbs.MEETINGS_PROPOSE,
                {"case_id": change.case_id},
            )
        ],
    )


def propose_button(case_id: int, lang: Lang) -> Element:
    """The details card's button to the proposals."""
    return execute(
        t(lang, "calendar.details.propose"), verbs.MEETINGS_PROPOSE, {"case_id": case_id}
    )


def record_button(case_id: int, meeting_id: int, lang: Lang) -> Element:
    """A button that opens the record card of a meeting (for the scheduler's prompt)."""
    return execute(
        t(lang, "calendar.action.record"),
        verbs.MEETING_RECORD,
        {"case_id": case_id, "meeting_id": meeting_id, "form": 1},
    )
