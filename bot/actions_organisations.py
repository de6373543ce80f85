"""The verbs of the network's organisations: the coordinators' card and its forms."""

from __future__ import annotations

from bot.deps import ActionDeps, Card, Click, Handler
from cards import verbs
from cards.base import plain
from cards.i18n import error_text, t
from cards.messages import error_card
from cards.organisations import organisations_card, read_organisation_update
from mediation import errors, services


class OrganisationActions:
    """Handlers of the organisations' verbs; coordinators only, in personal chat."""

    def __init__(self, deps: ActionDeps) -> None:
        self.deps = deps

    def routes(self) -> dict[str, Handler]:
        return {
            verbs.ORGANISATIONS_SHOW: self.show,
            verbs.ORGANISATION_UPDATE: self.update,
        }

    async def show(self, click: Click) -> Card:
        """The organisations with their agreements, each with its form."""
        return await self._card(click)

    async def update(self, click: Click) -> Card:
        """One organisation's kind, agreement period and hours, as its form gives them."""
        if not click.personal:
            return error_card(click.lang, t(click.lang, "error.personal_data_only"))
        try:
            wanted = read_organisation_update(click.data)
            changed = await services.update_organisation(
                services.UpdateOrganisation(
                    click.actor,
                    wanted.name,
                    wanted.kind,
                    wanted.agreement_start,
                    wanted.agreement_end,
                    wanted.clear_agreement,
                    wanted.yearly_hours,
                    wanted.clear_hours,
                ),
                self.deps.uow(click),
            )
        except errors.InvalidInput as exc:
            # The form comes back open with what was typed, the reason above it.
            return await self._card(click, refused=error_text(click.lang, exc))
        key = "organisations.saved" if changed else "organisations.unchanged"
        return await self._card(click, notice=t(click.lang, key, name=plain(wanted.name)))

    async def _card(
        self, click: Click, *, notice: str | None = None, refused: str | None = None
    ) -> Card:
        found = await services.network(click.actor, self.deps.uow_factory())
        if not click.personal:
            return error_card(click.lang, t(click.lang, "error.personal_data_only"))
        today = self.deps.policy.local_date(self.deps.clock.now())
        typed = click.data if refused is not None else None
        return organisations_card(
            found, click.lang, today, notice=notice, refused=refused, typed=typed
        )
