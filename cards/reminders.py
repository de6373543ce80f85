"""Cards of the scheduled jobs: reminders, prompts and the coordinators' sending report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cards import verbs
from cards.base import (
    Card,
    Element,
    action_set,
    card,
    choice_set,
    execute,
    facts,
    fitted,
    heading,
    plain,
    text,
    text_input,
)
from cards.calendar import record_button
from cards.i18n import Lang, format_date, t, term_label, tn
from mediation.outbox import MessageKind, OutboxStatus
from mediation.views import CaseSummary


def _time(lang: Lang, moment: datetime) -> str:
    sep = ":" if lang == "en" else "."
    return f"{moment.hour}{sep}{moment.minute:02d}"


def _local(value: object, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(str(value)).astimezone(zone)


def _open_case_button(lang: Lang, case_id: object) -> Element:
    return execute(t(lang, "reminders.open_case"), verbs.CARD_REFRESH, {"case_id": case_id})


def quota_reminder_card(kind: MessageKind, payload: Mapping[str, Any], lang: Lang) -> Card:
    """Term start and mid-term: the quota left, the families waiting, a way to the cases."""
    term = term_label(lang, str(payload["term"]), int(payload["year"]))
    title = (
        "reminders.term_start.title"
        if kind is MessageKind.TERM_START
        else "reminders.mid_term.title"
    )
    body = [
        heading(t(lang, title, term=term)),
        text(
            t(
                lang,
                "reminders.quota",
                term_left=payload["term_left"],
                year_left=payload["year_left"],
            )
        ),
        text(tn(lang, "reminders.waiting", int(payload["waiting"]))),
    ]
    if kind is MessageKind.MID_TERM:
        body.insert(1, text(t(lang, "reminders.mid_term.text")))
    return card(
        lang, body, [execute(t(lang, "reminders.open_cases"), verbs.REMINDERS_OPEN_CASES, {})]
    )


def meeting_card(kind: MessageKind, payload: Mapping[str, Any], lang: Lang, zone: ZoneInfo) -> Card:
    """A meeting tomorrow, or one that ended and waits to be recorded."""
    meeting_kind = t(lang, f"reminders.kind.{payload['meeting_kind']}")
    if kind is MessageKind.MEETING_REMINDER:
        starts = _local(payload["starts_at"], zone)
        title = t(lang, "reminders.meeting.title")
        line = t(
            lang,
            "reminders.meeting.text",
            code=payload["code"],
            kind=meeting_kind,
            day=format_date(lang, starts.date()),
            time=_time(lang, starts),
        )
        body = [heading(title), text(line)]
    else:
        ended = _local(payload["ends_at"], zone)
        line = t(
            lang,
            "reminders.record.text",
            code=payload["code"],
            kind=meeting_kind,
            day=format_date(lang, ended.date()),
        )
        body = [heading(t(lang, "reminders.record.title")), text(line)]
        # The button opens the calendar's record card, with the feedback part.
        button = record_button(int(payload["case_id"]), int(payload["meeting_id"]), lang)
        return card(lang, body, [button])
    return card(lang, body, [_open_case_button(lang, payload["case_id"])])


def follow_up_card(payload: Mapping[str, Any], lang: Lang) -> Card:
    due = format_date(lang, date.fromisoformat(str(payload["due"])))
    return card(
        lang,
        [
            heading(t(lang, "reminders.follow_up.title")),
            text(t(lang, "reminders.follow_up.text", code=payload["code"], day=due)),
        ],
        [_open_case_button(lang, payload["case_id"])],
    )


def joint_meeting_card(payload: Mapping[str, Any], lang: Lang) -> Card:
    day = format_date(lang, date.fromisoformat(str(payload["day"])))
    url = str(payload.get("agenda_url") or "")
    body = [
        heading(t(lang, "reminders.joint.title", day=day)),
        text(t(lang, "reminders.joint.text")),
    ]
    actions: list[Element] = []
    if url.startswith("https://"):
        actions.append(
            {"type": "Action.OpenUrl", "title": t(lang, "reminders.joint.agenda"), "url": url}
        )
    else:
        body.append(text(t(lang, "reminders.joint.no_agenda"), subtle=True))
    return card(lang, body, actions)


def reminder_card(
    kind: MessageKind, payload: Mapping[str, Any], lang: Lang, zone: ZoneInfo
) -> Card:
    """The card of an outbox message that needs nothing but its payload.

    The escalation is the case card, the feedback requests are the feedback feature's cards
    and the record prompt is the calendar's record card (this one only when it cannot be
    built); ``bot.actions_jobs.MessageRenderer`` builds those.
    """
    if kind in (MessageKind.TERM_START, MessageKind.MID_TERM):
        return quota_reminder_card(kind, payload, lang)
    if kind in (MessageKind.MEETING_REMINDER, MessageKind.RECORD_PROMPT):
        return meeting_card(kind, payload, lang, zone)
    if kind is MessageKind.FOLLOW_UP:
        return follow_up_card(payload, lang)
    if kind is MessageKind.JOINT_MEETING:
        return joint_meeting_card(payload, lang)
    raise ValueError(f"no reminder card for {kind}")


def escalation_notice(payload: Mapping[str, Any], lang: Lang) -> str:
    return t(lang, "reminders.escalation", code=payload["code"], days=payload["days"])


def open_cases_card(summaries: Sequence[CaseSummary], lang: Lang) -> Card:
    """The families waiting, each with a button to its card (claiming happens there)."""
    body: list[Element] = [heading(t(lang, "reminders.open_cases.title"))]
    if not summaries:
        body.append(text(t(lang, "reminders.open_cases.none")))
    entries = (
        [
            text(f"**{s.code}** · {s.area} · {term_label(lang, s.term, s.year)}", separator=True),
            action_set([_open_case_button(lang, s.case_id)]),
        ]
        for s in summaries
    )
    body += fitted(entries, lambda n: text(t(lang, "list.more", n=n), subtle=True))
    return card(lang, body)


# -- the coordinators' report -----------------------------------------------------------------


@dataclass(frozen=True)
class TroubleLine:
    message_id: int
    kind: MessageKind
    recipient_name: str
    created: date
    status: OutboxStatus


@dataclass(frozen=True)
class ReminderReport:
    days: int
    coordinator: bool
    counts: Sequence[tuple[MessageKind, OutboxStatus, int]]
    trouble: Sequence[TroubleLine] = ()
    joint_meetings: Sequence[tuple[date, str]] = field(default_factory=tuple)


def report_card(report: ReminderReport, lang: Lang, notice: str | None = None) -> Card:
    """What Sopu sent on its own; for coordinators, what failed and the joint meetings."""
    title = "report.title" if report.coordinator else "report.mine_title"
    body: list[Element] = []
    if notice:
        body.append(text(notice, color="Good"))
    body.append(heading(t(lang, title, days=report.days)))
    by_kind: dict[MessageKind, list[str]] = {}
    for kind, status, count in report.counts:
        part = t(lang, "report.count_part", count=count, status=t(lang, f"report.status.{status}"))
        by_kind.setdefault(kind, []).append(part)
    if not by_kind:
        body.append(text(t(lang, "report.none")))
    else:
        body.append(facts((t(lang, f"report.kind.{k}"), ", ".join(v)) for k, v in by_kind.items()))
    if report.trouble:
        body.append(heading(t(lang, "report.trouble"), separator=True))
        for line in report.trouble:
            said = t(
                lang,
                "report.trouble_line",
                kind=t(lang, f"report.kind.{line.kind}"),
                name=plain(line.recipient_name),
                day=format_date(lang, line.created),
                status=t(lang, f"report.status.{line.status}"),
            )
            body.append(text(said, color="Attention"))
            if report.coordinator:
                body.append(
                    action_set(
                        [
                            execute(
                                t(lang, "report.retry"),
                                verbs.REMINDERS_RETRY,
                                {"message_id": line.message_id},
                            )
                        ]
                    )
                )
    if report.coordinator and report.joint_meetings:
        body.append(heading(t(lang, "report.agenda.title"), separator=True))
        body.append(facts((format_date(lang, d), url or "–") for d, url in report.joint_meetings))
        body.append(
            choice_set(
                "day",
                t(lang, "report.agenda.day"),
                [(d.isoformat(), format_date(lang, d)) for d, _ in report.joint_meetings],
                value=report.joint_meetings[0][0].isoformat(),
            )
        )
        body.append(text_input("agenda_url", t(lang, "report.agenda.url"), max_length=500))
        body.append(action_set([execute(t(lang, "report.agenda.save"), verbs.JOINT_AGENDA, {})]))
    return card(lang, body)
