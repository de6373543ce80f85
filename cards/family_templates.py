"""The coordinators' card of the messages to families: each message's wording in one
language, its placeholders, and a form to change it or go back to the default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cards import verbs
from cards.base import (
    Card,
    Element,
    card,
    container,
    execute,
    heading,
    plain,
    show_card,
    text,
    text_input,
)
from cards.i18n import Lang, t
from mediation.family_mail import (
    BODY_MAX,
    LANGS,
    PLACEHOLDERS,
    SUBJECT_MAX,
    FamilyMessage,
    Template,
)


@dataclass(frozen=True)
class TemplateView:
    message: FamilyMessage
    template: Template
    custom: bool  # a coordinator's own wording, not the default


def templates_card(
    views: Sequence[TemplateView],
    shown: str,
    lang: Lang,
    *,
    notice: str | None = None,
    notice_is_error: bool = False,
) -> Card:
    """The messages in language ``shown``, for a coordinator reading in ``lang``."""
    body: list[Element] = []
    if notice:
        body.append(text(notice, weight="Bolder", color="Attention" if notice_is_error else "Good"))
    body.append(heading(t(lang, "templates.title", language=t(lang, f"language.name.{shown}"))))
    body.append(text(t(lang, "templates.intro"), subtle=True))
    for view in views:
        message = view.message.value
        ref = {"message": message, "lang": shown}
        names = ", ".join("{" + name + "}" for name in sorted(PLACEHOLDERS[view.message]))
        state = t(lang, "templates.custom" if view.custom else "templates.default")
        tools = [
            show_card(
                t(lang, "templates.edit"),
                [
                    text(t(lang, "templates.placeholders", names=names), subtle=True),
                    text_input(
                        "subject",
                        t(lang, "templates.subject"),
                        value=view.template.subject,
                        max_length=SUBJECT_MAX,
                    ),
                    {
                        **text_input(
                            "body",
                            t(lang, "templates.body"),
                            value=view.template.body,
                            max_length=BODY_MAX,
                        ),
                        "isMultiline": True,
                    },
                ],
                [execute(t(lang, "templates.save"), verbs.TEMPLATE_SAVE, ref, style="positive")],
            )
        ]
        if view.custom:
            tools.append(execute(t(lang, "templates.reset"), verbs.TEMPLATE_RESET, ref))
        body.append(
            container(
                [
                    text(
                        f"{t(lang, f'templates.message.{message}')} · {state}",
                        weight="Bolder",
                        separator=True,
                    ),
                    text(plain(view.template.subject), subtle=True, spacing="Small"),
                    {"type": "ActionSet", "actions": tools},
                ]
            )
        )
    others = [
        execute(t(lang, f"language.name.{other}"), verbs.TEMPLATES_SHOW, {"lang": other})
        for other in LANGS
        if other != shown
    ]
    return card(lang, body, others)
