"""Feedback cards of a common time: an attendee's form after the meeting, and the family's
feedback link with its QR code on the convener's card."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cards import verbs
from cards.base import (
    Card,
    Element,
    action_set,
    card,
    choice_set,
    execute,
    heading,
    refill,
    text,
    text_input,
)
from cards.i18n import Lang, format_date, t
from mediation.common_time_feedback import COMMENT_MAX, PRESENT
from mediation.common_time_views import TeamFeedbackView
from mediation.feedback import RATING


@dataclass(frozen=True)
class FamilyLinkShown:
    """The family's feedback link as the convener's card shows it (the bot makes the QR)."""

    url: str
    qr_png_data_uri: str
    expires: date  # the last day it takes answers, in the bank's time zone


def _answers(lang: Lang, view: TeamFeedbackView) -> list[Element]:
    given = view.given
    assert given is not None
    present = "yes" if given.competences_present else "no"
    shown = [
        text(t(lang, "ctfeedback.given.useful", rating=given.useful)),
        text(t(lang, f"ctfeedback.given.present.{present}"), spacing="None"),
    ]
    if given.comment:
        shown.append(text(t(lang, "ctfeedback.given.comment", comment=given.comment)))
    return shown


def team_feedback_card(
    view: TeamFeedbackView,
    lang: Lang,
    *,
    notice: str | None = None,
    refused: str | None = None,
    typed: Mapping[str, Any] | None = None,
) -> Card:
    """An attendee's feedback after the common-time meeting; once given, their answer.

    The form sends ``useful`` (1-5), ``competences_present`` (yes/no) and ``comment``.
    """
    body: list[Element] = []
    if notice:
        body.append(text(notice, weight="Bolder", color="Good"))
    if refused:
        body.append(text(refused, weight="Bolder", color="Attention"))
    body.append(heading(t(lang, "ctfeedback.title", code=view.code)))
    if view.given is not None:
        return card(lang, [*body, *_answers(lang, view)])
    required = t(lang, "feedback.required")
    body += [
        text(t(lang, "ctfeedback.intro"), subtle=True, spacing="None"),
        choice_set(
            "useful",
            t(lang, "ctfeedback.useful"),
            [(r, t(lang, f"feedback.scale.{r}")) for r in RATING],
            style="expanded",
            required_message=required,
        ),
        choice_set(
            "competences_present",
            t(lang, "ctfeedback.present"),
            [(p, t(lang, f"ctfeedback.present.{p}")) for p in PRESENT],
            style="expanded",
            required_message=required,
        ),
        text_input(
            "comment",
            t(lang, "ctfeedback.comment"),
            placeholder=t(lang, "ctfeedback.comment.placeholder"),
            max_length=COMMENT_MAX,
        )
        | {"isMultiline": True},
        action_set(
            [
                execute(
                    t(lang, "feedback.send"),
                    verbs.COMMON_TIME_FEEDBACK,
                    {"ct_id": view.ct_id},
                    style="positive",
                )
            ]
        ),
    ]
    if typed:
        refill(body, typed)
    return card(lang, body)


def family_link_section(lang: Lang, link: FamilyLinkShown) -> list[Element]:
    """For the convener once held: the family's feedback link and its QR code to show them."""
    return [
        text(t(lang, "ctfeedback.family.title"), weight="Bolder", separator=True),
        text(t(lang, "ctfeedback.family.intro")),
        {
            "type": "Image",
            "url": link.qr_png_data_uri,
            "altText": t(lang, "ctfeedback.family.qr_alt"),
            "size": "Large",
            "horizontalAlignment": "Center",
        },
        text(link.url, size="Small", subtle=True),
        text(
            t(lang, "ctfeedback.family.expires", date=format_date(lang, link.expires)),
            subtle=True,
        ),
    ]
