"""The local calendar: events kept in Sopu's own database, free/busy from them, .ics feeds.

This is the embedded default (SOPU_CALENDAR=local): no Azure is needed. A mediator sees the
bookings in any calendar program by subscribing to their private feed URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from mediation.calendar import EventDraft, LocalEvent, LocalEvents
from mediation.slots import BusyBlock, Schedule, ShowAs, WorkingHours


class LocalCalendar:
    """Implements ``mediation.calendar.Calendar`` on a store of ``LocalEvents``."""

    def __init__(self, events: LocalEvents, working_hours: WorkingHours) -> None:
        self.events = events
        self.working_hours = working_hours

    async def schedules(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> list[Schedule]:
        found = await self.events.between(mailboxes, start, end)
        result = []
        for mailbox in mailboxes:
            mine = mailbox.lower()
            blocks = tuple(
                BusyBlock(e.starts_at, e.ends_at, _show_as(e.show_as))
                for e in found
                if e.mailbox == mine or mine in e.attendees
            )
            result.append(Schedule(mine, blocks, self.working_hours))
        return result

    async def create_event(self, organizer: str, draft: EventDraft) -> str:
        return await self.events.add(
            organizer,
            draft.subject,
            draft.body,
            draft.start,
            draft.end,
            attendees=draft.attendees,
            transaction_id=draft.transaction_id,
        )

    async def update_event(self, organizer: str, event_id: str, draft: EventDraft) -> None:
        await self.events.update(
            organizer,
            event_id,
            subject=draft.subject,
            body=draft.body,
            start=draft.start,
            end=draft.end,
            attendees=draft.attendees,
        )

    async def cancel_event(self, organizer: str, event_id: str, comment: str) -> None:
        await self.events.cancel(organizer, event_id, comment)


def _show_as(value: str) -> ShowAs:
    try:
        return ShowAs(value)
    except ValueError:
        return ShowAs.BUSY


# -- the .ics feed -------------------------------------------------------------------------------


# RFC 5545 3.3.11: TEXT holds no control characters but HTAB; a line break is backslash-n.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def ics_text(value: str) -> str:
    """A value of TEXT type as RFC 5545 writes it (3.3.11), ready to follow a property's colon.

    Every kind of line break (CRLF, a bare CR, LF) becomes one ``\\n``; a bare CR left in
    would end the property line in the reader's eyes and let the rest pose as properties
    of its own. Other control characters are dropped.
    """
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _CONTROL.sub("", _LINE_BREAK.sub("\\\\n", escaped))


def _fold(line: str) -> Iterable[str]:
    """RFC 5545 folding: lines of at most 75 octets, continued with a leading space."""
    data = line.encode("utf-8")
    first = True
    while data:
        limit = 75 if first else 74
        cut = min(limit, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut -= 1  # never split a UTF-8 character
        chunk = data[:cut].decode("utf-8")
        yield chunk if first else " " + chunk
        data = data[cut:]
        first = False


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render_ics(events: Iterable[LocalEvent], name: str, now: datetime) -> str:
    """An iCalendar feed of the events; cancelled ones stay in it as STATUS:CANCELLED."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Sopu//Mediator bank//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ics_text(name)}",
    ]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.id}@sopu",
            f"DTSTAMP:{_stamp(now)}",
            f"LAST-MODIFIED:{_stamp(e.updated_at)}",
            f"DTSTART:{_stamp(e.starts_at)}",
            f"DTEND:{_stamp(e.ends_at)}",
            f"SEQUENCE:{e.sequence}",
            f"SUMMARY:{ics_text(e.subject)}",
            f"DESCRIPTION:{ics_text(e.cancel_comment if e.cancelled else e.body)}",
            f"STATUS:{'CANCELLED' if e.cancelled else 'CONFIRMED'}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(f"{folded}\r\n" for line in lines for folded in _fold(line))
