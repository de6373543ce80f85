"""Card actions of the feedback feature: mediators' feedback, and the statistics.

When a case closes, the jobs' outbox sends each mediator of the pair the case feedback card
and the client link card with its QR code (bot/outbox_cards.py builds them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot import inputs
from bot.deps import ActionDeps, Card, Click, Handler
from bot.stats_download import WRITTEN, download_url
from cards import verbs
from cards.feedback import case_feedback_card, meeting_feedback_card
from cards.i18n import Lang, error_text, t
from cards.messages import error_card
from cards.overview import bank_overview_card
from cards.stats import stats_card, written_feedback_card
from mediation import errors, services
from mediation.feedback import (
    my_meeting_feedback,
    record_case_feedback,
    record_meeting_feedback,
)
from mediation.overview import bank_overview
from mediation.services import common_time
from mediation.stats import written_lines

log = logging.getLogger(__name__)

_FEEDBACK_KEYS = ("fb_rating", "fb_cooperation", "fb_note")
_CASE_KEYS = ("cf_package", "cf_pair", "cf_helped", "cf_hard", "cf_note")


class FeedbackActions:
    """Handlers of the feedback verbs, and the statistics."""

    def __init__(self, deps: ActionDeps) -> None:
        self.deps = deps

    def routes(self) -> dict[str, Handler]:
        return {
            verbs.FEEDBACK_MEETING: self.meeting,
            verbs.FEEDBACK_CASE: self.case,
            verbs.STATS_SHOW: self.stats_show,
            verbs.STATS_WRITTEN: self.written,
            verbs.BANK_OVERVIEW: self.overview,
        }

    async def meeting(self, click: Click) -> Card:
        """A mediator's feedback on one meeting, from the standalone card."""
        meeting_id = _id(click.data, "meeting_id")
        fields = {k: click.data.get(k) for k in _FEEDBACK_KEYS}
        try:
            changed = await record_meeting_feedback(
                click.actor,
                meeting_id,
                fields,
                self.deps.uow(click),
                self.deps.feedback.store,
                self.deps.clock,
            )
        except (errors.InvalidInput, errors.InvalidForm) as exc:
            return meeting_feedback_card(
                click.lang, meeting_id, notice=error_text(click.lang, exc), notice_is_error=True
            )
        key = "feedback.saved" if changed else "feedback.unchanged"
        current = await my_meeting_feedback(
            click.actor, meeting_id, self.deps.uow_factory(), self.deps.feedback.store
        )
        return meeting_feedback_card(
            click.lang, meeting_id, notice=t(click.lang, key), current=current
        )

    async def case(self, click: Click) -> Card:
        """A mediator's look back at a closed case; the card comes back with the answer."""
        case_id = _id(click.data, "case_id")
        fields = {k: click.data.get(k) for k in _CASE_KEYS}
        fb = self.deps.feedback
        try:
            _, changed = await record_case_feedback(
                click.actor, case_id, fields, self.deps.uow(click), fb.store, self.deps.clock
            )
        except (errors.InvalidInput, errors.InvalidForm) as exc:
            summary = await services.case_summary(
                click.actor, case_id, self.deps.uow(click), self.deps.clock, self.deps.policy
            )
            return case_feedback_card(
                click.lang, summary, notice=error_text(click.lang, exc), notice_is_error=True
            )
        summary = await services.case_summary(
            click.actor, case_id, self.deps.uow(click), self.deps.clock, self.deps.policy
        )
        uow = self.deps.uow_factory()
        async with uow:
            me = await services.actor(uow, click.actor)
        assert me.id is not None
        current = await fb.store.case_feedback(case_id, me.id)
        key = "feedback.saved" if changed else "feedback.unchanged"
        return case_feedback_card(click.lang, summary, current, notice=t(click.lang, key))

    # -- statistics ------------------------------------------------------------------------

    async def stats_command(self, actor: str, lang: Lang, args: str) -> Card:
        """``stats [year]``: the year's figures for a coordinator (sent to personal chat)."""
        today = self.deps.policy.local_date(self.deps.clock.now())
        words = args.split()
        if not words:
            year = today.year
        elif (
            len(words) == 1
            and words[0].isascii()
            and words[0].isdigit()
            and inputs.FIRST_YEAR <= int(words[0]) <= inputs.LAST_YEAR
        ):
            year = int(words[0])
        else:
            return error_card(lang, t(lang, "stats.bad_year", year=today.year - 1))
        return await self.stats_card(actor, lang, year)

    async def stats_show(self, click: Click) -> Card:
        year = _year(click.data)
        if not click.personal:
            await self._coordinator(click.actor)
            return error_card(click.lang, t(click.lang, "error.personal_data_only"))
        return await self.stats_card(click.actor, click.lang, year)

    async def written(self, click: Click) -> Card:
        """The year's written feedback for the joint meetings: coordinators, personal chat."""
        year = _year(click.data)
        await self._coordinator(click.actor)
        if not click.personal:
            return error_card(click.lang, t(click.lang, "error.personal_data_only"))
        fb, policy = self.deps.feedback, self.deps.policy
        now = self.deps.clock.now()
        lines = written_lines(await fb.stats.written(year, policy), policy.areas)
        url = download_url(fb.base_url, fb.key, year, click.lang, now, fb.stats_minutes, WRITTEN)
        return written_feedback_card(click.lang, year, lines, url, fb.stats_minutes)

    async def overview(self, click: Click) -> Card:
        """The bank overview for a coordinator, in personal chat: quotas, hours, the away."""
        view = await bank_overview(
            click.actor,
            self.deps.uow_factory(),
            self.deps.feedback.stats,
            self.deps.clock,
            self.deps.policy,
        )
        if not click.personal:
            return error_card(click.lang, t(click.lang, "error.personal_data_only"))
        mediators = await self.deps.gateway.mediators_to_assign()
        return bank_overview_card(view, click.lang, mediators)

    async def _coordinator(self, actor: str) -> None:
        uow = self.deps.uow_factory()
        async with uow:
            me = await services.actor(uow, actor)
        if not me.is_coordinator:
            raise errors.NotAllowed("viewing statistics", "only a coordinator may do this")

    async def stats_card(self, actor: str, lang: Lang, year: int) -> Card:
        await self._coordinator(actor)
        fb = self.deps.feedback
        now = self.deps.clock.now()
        figures = await fb.stats.year(year, self.deps.policy, now)
        common = await common_time.figures(actor, year, self.deps.uow_factory(), self.deps.policy)
        said = await common_time.feedback_figures(actor, year, self.deps.uow_factory())
        url = download_url(fb.base_url, fb.key, year, lang, now, fb.stats_minutes)
        today = self.deps.policy.local_date(now)
        return stats_card(
            lang,
            figures,
            today,
            url,
            fb.stats_minutes,
            common_time=common,
            common_time_feedback=said,
        )


def _id(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    try:
        found = inputs.whole(data, key, low=1)
    except errors.InvalidInput:
        found = None
    if found is not None:
        return found
    if key == "case_id":
        raise errors.CaseNotFound(str(value)[:20])
    raise errors.NotFound(f"{key} {str(value)[:20]} does not exist")


def _year(data: Mapping[str, Any]) -> int:
    """A statistics year from a card's button: a JSON integer within the years Sopu knows."""
    year = data.get("year")
    if (
        not isinstance(year, int)
        or isinstance(year, bool)
        or not inputs.FIRST_YEAR <= year <= inputs.LAST_YEAR
    ):
        raise errors.InvalidInput("year", "unknown choice")
    return year
