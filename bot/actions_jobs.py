"""The scheduled jobs' verbs in Teams: the `reminders` card and its buttons."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import cards
from bot import inputs
from bot.deps import ActionDeps, Card, Click, Handler
from cards import verbs
from cards.i18n import Lang, format_date, t
from cards.reminders import ReminderReport, TroubleLine, open_cases_card, report_card
from mediation import errors, services
from mediation.outbox import OutboxStatus
from mediation.reminders import joint_meeting_days

log = logging.getLogger(__name__)

REPORT_DAYS = 30
TROUBLE_SHOWN = 10


class JobActions:
    """Verb handlers of the jobs' cards, and the `reminders` command's card."""

    def __init__(self, deps: ActionDeps) -> None:
        self.deps = deps
        self.jobs = deps.jobs

    def routes(self) -> dict[str, Handler]:
        return {
            verbs.REMINDERS_OPEN_CASES: self.open_cases,
            verbs.REMINDERS_RETRY: self.retry,
            verbs.JOINT_AGENDA: self.joint_agenda,
        }

    async def open_cases(self, click: Click) -> Card:
        """The families waiting for mediators (from a term-start or mid-term reminder)."""
        uow = self.deps.uow_factory()
        async with uow:
            await services.actor(uow, click.actor)
        deps = self.deps
        summaries = await services.open_cases(deps.uow_factory(), deps.clock, deps.policy)
        return open_cases_card(summaries, click.lang)

    async def _me(self, actor: str) -> Any:
        uow = self.deps.uow_factory()
        async with uow:
            return await services.actor(uow, actor)

    async def retry(self, click: Click) -> Card:
        """A coordinator sends a message that failed or may not have arrived, again."""
        me = await self._me(click.actor)
        if not me.is_coordinator:
            return cards.error_card(click.lang, t(click.lang, "error.not_allowed.generic"))
        try:
            message_id = inputs.whole(click.data, "message_id")
        except errors.InvalidInput:
            message_id = None
        done = message_id is not None and await self.jobs.outbox.requeue(
            message_id, self.deps.clock.now()
        )
        if done:
            self.jobs.wake()
            notice = t(click.lang, "report.retried")
            return await self.reminders_card(click.actor, click.lang, notice)
        return cards.error_card(click.lang, t(click.lang, "report.not_retriable"))

    async def joint_agenda(self, click: Click) -> Card:
        """A coordinator sets the agenda link of one of the bank's joint meetings."""
        me = await self._me(click.actor)
        if not me.is_coordinator:
            return cards.error_card(click.lang, t(click.lang, "error.not_allowed.generic"))
        days = self._joint_days()
        try:
            day = date.fromisoformat(str(click.data.get("day") or ""))
        except ValueError:
            day = None
        if day is None or day not in days:
            return cards.error_card(click.lang, t(click.lang, "report.agenda.bad_day"))
        url = str(click.data.get("agenda_url") or "").strip()
        if not url.startswith("https://") or len(url) > 500 or any(c.isspace() for c in url):
            return cards.error_card(click.lang, t(click.lang, "report.agenda.bad_url"))
        await self.jobs.store.set_agenda(day, url, me.id, self.deps.clock.now())
        notice = t(click.lang, "report.agenda.saved", day=format_date(click.lang, day))
        return await self.reminders_card(click.actor, click.lang, notice)

    def _joint_days(self) -> list[date]:
        today = self.deps.policy.local_date(self.deps.clock.now())
        found = [
            d
            for year in (today.year, today.year + 1)
            for d in joint_meeting_days(year, self.jobs.policy)
            if d >= today
        ]
        return found[: len(self.jobs.policy.joint_meetings)]

    async def reminders_card(self, actor: str, lang: Lang, notice: str | None = None) -> Card:
        """Coordinators: everything sent, what failed, the joint meetings. Others: their own."""
        me = await self._me(actor)
        since = self.deps.clock.now() - timedelta(days=REPORT_DAYS)
        mine = None if me.is_coordinator else me.aad_object_id
        outbox = self.jobs.outbox
        counts = await outbox.counts(since, recipient=mine)
        trouble_statuses = [s for s in OutboxStatus if s.trouble]
        troubled = await outbox.recent(
            since, statuses=trouble_statuses, recipient=mine, limit=TROUBLE_SHOWN
        )
        names = await self._names()
        joint: list[tuple[date, str]] = []
        if me.is_coordinator:
            days = self._joint_days()
            if days:
                agendas = await self.jobs.store.agendas(days[0], days[-1] + timedelta(days=1))
                joint = [(d, agendas.get(d, "")) for d in days]
        report = ReminderReport(
            days=REPORT_DAYS,
            coordinator=me.is_coordinator,
            counts=[(c.kind, c.status, c.count) for c in counts],
            trouble=[
                TroubleLine(
                    m.id,
                    m.key.kind,
                    # An e-mail to a parent names no one here: its case is in its payload.
                    t(lang, "report.family_recipient", case=_case_code(m.payload))
                    if m.key.kind.to_family
                    else names.get(m.key.recipient, "?"),
                    self.deps.policy.local_date(m.created_at),
                    m.status,
                )
                for m in troubled
            ],
            joint_meetings=joint,
        )
        return report_card(report, lang, notice)

    async def _names(self) -> dict[str, str]:
        uow = self.deps.uow_factory()
        async with uow:
            return {m.aad_object_id.lower(): m.name for m in await uow.mediators.list()}


def _case_code(payload: Any) -> str:
    return str(payload.get("code", "?"))
