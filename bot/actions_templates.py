"""The verbs of the messages to families: show them in a language, save or reset one.

Coordinators only (checked in the use cases, from the registry); a template that cannot be
filled in is refused whole, on the card, and nothing is saved.
"""

from __future__ import annotations

from bot.deps import ActionDeps, Card, Click, Handler
from bot.family_mail import default_template
from cards import verbs
from cards.family_templates import TemplateView, templates_card
from cards.i18n import Lang, error_text, lang_of, t
from mediation import errors, services
from mediation.family_mail import (
    FamilyMessage,
    FamilyTemplates,
    Template,
    read_lang,
    read_message,
    reset_template,
    save_template,
)
from mediation.services.common import require_coordinator


class TemplateActions:
    """Handlers of the templates card; each answers with the card and never raises."""

    def __init__(self, deps: ActionDeps, templates: FamilyTemplates) -> None:
        self.deps = deps
        self.templates = templates

    def routes(self) -> dict[str, Handler]:
        return {
            verbs.TEMPLATES_SHOW: self.show,
            verbs.TEMPLATE_SAVE: self.save,
            verbs.TEMPLATE_RESET: self.reset,
        }

    async def card(
        self,
        actor: str,
        lang: Lang,
        shown: str | None = None,
        *,
        notice: str | None = None,
        notice_is_error: bool = False,
    ) -> Card:
        """The messages in ``shown`` (the reader's language unless named); coordinators only."""
        uow = self.deps.uow_factory()
        async with uow:
            me = await services.actor(uow, actor)
        require_coordinator(me, "changing the family messages")
        language = read_lang(shown or lang)
        views = []
        for message in FamilyMessage:
            stored = await self.templates.get(message, language)
            template = stored or default_template(message, lang_of(language))
            views.append(TemplateView(message, template, stored is not None))
        return templates_card(views, language, lang, notice=notice, notice_is_error=notice_is_error)

    async def show(self, click: Click) -> Card:
        """The messages in the language the button names."""
        return await self.card(click.actor, click.lang, read_lang(click.data.get("lang")))

    async def save(self, click: Click) -> Card:
        """A coordinator's wording of one message; the card says what was wrong, if anything."""
        message = read_message(click.data.get("message"))
        language = read_lang(click.data.get("lang"))
        template = Template(
            _text(click, "subject").strip(), _text(click, "body").strip().replace("\r\n", "\n")
        )
        try:
            await save_template(
                click.actor,
                message,
                language,
                template,
                self.deps.uow(click),
                self.templates,
                self.deps.clock.now(),
            )
        except errors.NotAllowed:
            raise
        except errors.DomainError as exc:
            return await self.card(
                click.actor,
                click.lang,
                language,
                notice=error_text(click.lang, exc),
                notice_is_error=True,
            )
        name = t(click.lang, f"templates.message.{message.value}")
        saved = t(click.lang, "templates.saved", message=name)
        return await self.card(click.actor, click.lang, language, notice=saved)

    async def reset(self, click: Click) -> Card:
        """Back to the default wording of one message."""
        message = read_message(click.data.get("message"))
        language = read_lang(click.data.get("lang"))
        await reset_template(click.actor, message, language, self.deps.uow(click), self.templates)
        name = t(click.lang, f"templates.message.{message.value}")
        done = t(click.lang, "templates.was_reset", message=name)
        return await self.card(click.actor, click.lang, language, notice=done)


def _text(click: Click, key: str) -> str:
    value = click.data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.InvalidInput(key, "not text")
    return value
