"""Feedback cards: the mediators' after a meeting and after a case, and the client link card."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from cards.base import (
    Card,
    Element,
    card,
    choice_set,
    execute,
    heading,
    text,
    text_input,
)
from cards.i18n import Lang, format_date, t
from cards.verbs import FEEDBACK_CASE, FEEDBACK_MEETING
from mediation.feedback import (
    COOPERATION,
    HARD,
    HELPED,
    NOTE_LIMIT,
    RATING,
    CaseFeedback,
    MeetingFeedback,
)
from mediation.views import CaseSummary


def _scale(lang: Lang, id_: str, label: str, value: int | None) -> Element:
    return choice_set(
        id_,
        label,
        [(r, t(lang, f"feedback.scale.{r}")) for r in RATING],
        style="expanded",
        value=str(value) if value else None,
        required_message=t(lang, "feedback.required"),
    )


def _note(lang: Lang, id_: str, label: str, value: str = "") -> Element:
    return text_input(
        id_,
        label,
        value=value or None,
        placeholder=t(lang, "feedback.note.placeholder"),
        style="text",
        max_length=NOTE_LIMIT,
    ) | {"isMultiline": True}


def meeting_feedback_section(
    lang: Lang, meeting_id: int, current: MeetingFeedback | None = None
) -> list[dict[str, Any]]:
    """The feedback part of a meeting-record card: ``fb_rating``, ``fb_cooperation``, ``fb_note``.

    The record card's own submit button carries ``meeting_id``; these are only the inputs,
    filled with the mediator's stored answer (``current``), which a new answer replaces.
    """
    return [
        heading(t(lang, "feedback.meeting.title"), separator=True),
        text(t(lang, "feedback.meeting.intro"), subtle=True, spacing="None"),
        _scale(
            lang, "fb_rating", t(lang, "feedback.rating.label"), current.rating if current else None
        ),
        choice_set(
            "fb_cooperation",
            t(lang, "feedback.cooperation.label"),
            [(c, t(lang, f"feedback.cooperation.{c}")) for c in COOPERATION],
            style="expanded",
            value=current.cooperation if current else None,
            required_message=t(lang, "feedback.required"),
        ),
        _note(lang, "fb_note", t(lang, "feedback.note.label"), current.note if current else ""),
    ]


def meeting_feedback_card(
    lang: Lang,
    meeting_id: int,
    code: str | None = None,
    notice: str | None = None,
    notice_is_error: bool = False,
    current: MeetingFeedback | None = None,
) -> Card:
    """The meeting feedback on its own, until the calendar's record card carries it."""
    body: list[Element] = []
    if notice:
        body.append(text(notice, color="Attention" if notice_is_error else "Good"))
    section = meeting_feedback_section(lang, meeting_id, current)
    if code:
        section[0] = heading(t(lang, "feedback.meeting.title_code", code=code))
    else:
        section[0] = heading(t(lang, "feedback.meeting.title"))
    body += section
    send = execute(t(lang, "feedback.send"), FEEDBACK_MEETING, {"meeting_id": meeting_id})
    return card(lang, body, [send])


def case_feedback_card(
    lang: Lang,
    summary: CaseSummary,
    current: CaseFeedback | None = None,
    notice: str | None = None,
    notice_is_error: bool = False,
) -> Card:
    """To each mediator of the pair when a case closes; answering again updates the answer."""
    body: list[Element] = []
    if notice:
        body.append(text(notice, color="Attention" if notice_is_error else "Good"))
    body += [
        heading(t(lang, "feedback.case.title", code=summary.code)),
        text(t(lang, "feedback.case.intro"), subtle=True, spacing="None"),
        _scale(
            lang,
            "cf_package",
            t(lang, "feedback.case.package"),
            current.package_rating if current else None,
        ),
        _scale(
            lang, "cf_pair", t(lang, "feedback.case.pair"), current.pair_rating if current else None
        ),
        choice_set(
            "cf_helped",
            t(lang, "feedback.case.helped"),
            [(c, t(lang, f"feedback.helped.{c}")) for c in HELPED],
            multi=True,
            style="expanded",
            value=",".join(current.helped) if current and current.helped else None,
        ),
        choice_set(
            "cf_hard",
            t(lang, "feedback.case.hard"),
            [(c, t(lang, f"feedback.hard.{c}")) for c in HARD],
            multi=True,
            style="expanded",
            value=",".join(current.hard) if current and current.hard else None,
        ),
        _note(lang, "cf_note", t(lang, "feedback.case.note"), current.note if current else ""),
    ]
    send = execute(t(lang, "feedback.send"), FEEDBACK_CASE, {"case_id": summary.case_id})
    return card(lang, body, [send])


def client_link_card(
    lang: Lang,
    summary: CaseSummary,
    links: Sequence[tuple[int, str, str]],
    expires: date | None = None,
) -> Card:
    """Each parent's own feedback link and QR code, for the pair to hand over.

    ``links`` holds (parent number, URL, QR code as a PNG data URI); each link takes one
    answer, so one parent answering twice never locks the other out.
    """
    body: list[Element] = [
        heading(t(lang, "feedback.client.title", code=summary.code)),
        text(t(lang, "feedback.client.intro_each")),
    ]
    actions: list[Element] = []
    for parent_no, url, qr_png_data_uri in links:
        parent = t(lang, "feedback.client.parent", n=parent_no)
        body += [
            text(parent, weight="Bolder", separator=True),
            {
                "type": "Image",
                "url": qr_png_data_uri,
                "altText": t(lang, "feedback.client.qr_alt_parent", n=parent_no),
                "size": "Large",
                "horizontalAlignment": "Center",
            },
            text(url, size="Small", subtle=True),
        ]
        actions.append(
            {
                "type": "Action.OpenUrl",
                "title": t(lang, "feedback.client.open_parent", n=parent_no),
                "url": url,
            }
        )
    if expires is not None:
        body.append(
            text(t(lang, "feedback.client.expires", date=format_date(lang, expires)), subtle=True)
        )
    return card(lang, body, actions)
