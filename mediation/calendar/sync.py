"""Keeping calendars and Sopu in step: pushing Sopu's changes, following Outlook's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mediation import errors, notices
from mediation.calendar.errors import CalendarRefused, CalendarUnavailable
from mediation.calendar.ports import (
    CalendarDeps,
    EventDraft,
    EventLink,
    EventLinks,
    EventSeen,
    LinkState,
    MeetingChanged,
    MeetingNotifier,
)
from mediation.calendar.rules import iso_minutes
from mediation.family_mail import CANCELLED, FamilyMessage, meeting_mail, moved_period
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import Case, Meeting, MeetingKind, MeetingStatus
from mediation.ports import CaseChanged, Clock, Notifier, UnitOfWork


async def push(link: EventLink, case: Case, meeting: Meeting, d: CalendarDeps) -> None:
    """Carry a pending change of a meeting over to its organiser's calendar."""
    draft = EventDraft(
        subject=d.wording.subject(case.code, meeting.kind, meeting.parent_no),
        body=d.wording.body(case.code),
        start=link.starts_at,
        end=link.ends_at,
        attendees=link.attendees,
        transaction_id=link.transaction_id,
    )
    if link.state is LinkState.CREATE or (link.state is LinkState.UPDATE and not link.event_id):
        link.event_id = await d.calendar.create_event(link.organizer, draft)
        link.state = LinkState.SYNCED
    elif link.state is LinkState.UPDATE:
        assert link.event_id is not None
        await d.calendar.update_event(link.organizer, link.event_id, draft)
        link.state = LinkState.SYNCED
    elif link.state is LinkState.CANCEL:
        if link.event_id:
            comment = link.comment or d.wording.cancel_comment(case.code)
            await d.calendar.cancel_event(link.organizer, link.event_id, comment)
        link.state = LinkState.CANCELLED
    await d.links.save(link)


async def push_pending(uow: UnitOfWork, d: CalendarDeps) -> int:
    """Push every calendar change that did not get through; returns how many went through.

    For the scheduler: a booking saved while Graph was down reaches the calendar later.
    """
    done = 0
    for link in await d.links.pending():
        async with uow:
            case = await uow.cases.get(link.case_id)
        if case is None:
            continue
        meeting = next((m for m in case.meetings if m.id == link.meeting_id), None)
        if meeting is None:
            continue
        try:
            await push(link, case, meeting, d)
        except (CalendarUnavailable, CalendarRefused):
            continue
        done += 1
    return done


def change_payload(change: MeetingChanged) -> dict[str, object]:
    """What the pair's note about a calendar change shows: no family data, only the case code."""
    return {
        "case_id": change.case_id,
        "code": change.code,
        "meeting_id": change.meeting_id,
        "kind": change.kind.value,
        "parent_no": change.parent_no,
        "how": change.how,
        "starts_at": change.starts_at.isoformat(),
        "ends_at": change.ends_at.isoformat(),
    }


async def tell_pair(uow: UnitOfWork, change: MeetingChanged, stamp: str, now: datetime) -> None:
    """The pair's notes about a changed meeting, added to the unit of work's transaction."""
    pair = await uow.mediators.by_ids(list(change.mediator_ids))
    notes = [
        notices.meeting_changed(change.meeting_id, p.aad_object_id, stamp, change_payload(change))
        for p in pair.values()
        if p.active
    ]
    await uow.outbox.add(notes, now)


async def tell_family(
    uow: UnitOfWork,
    case: Case,
    meeting: Meeting,
    message: FamilyMessage,
    period: str,
    now: datetime,
) -> None:
    """The parents' e-mails about a meeting booked, moved or cancelled, added to the unit of
    work's transaction."""
    assert case.id is not None
    family = await uow.cases.family(case.id)
    await uow.outbox.add(meeting_mail(case, family, meeting, message, period), now)


def family_change(case: Case, meeting: Meeting) -> tuple[FamilyMessage, str]:
    """What the family is told of a meeting that changed (the case saved with the change):
    cancelled, or moved."""
    if meeting.status is MeetingStatus.CANCELLED:
        return FamilyMessage.CANCELLATION, CANCELLED
    return FamilyMessage.CHANGE, moved_period(case.version)


def change_of(payload: Mapping[str, Any]) -> MeetingChanged:
    """The change a note's payload describes (``change_payload`` read back)."""
    return MeetingChanged(
        int(payload["case_id"]),
        str(payload["code"]),
        int(payload["meeting_id"]),
        MeetingKind(str(payload["kind"])),
        int(payload["parent_no"]) if payload.get("parent_no") is not None else None,
        str(payload["how"]),
        datetime.fromisoformat(str(payload["starts_at"])),
        datetime.fromisoformat(str(payload["ends_at"])),
        (),
    )


async def apply_calendar_change(
    seen: EventSeen,
    uow: UnitOfWork,
    links: EventLinks,
    notifier: MeetingNotifier,
    case_notifier: Notifier,
    clock: Clock,
) -> MeetingChanged | None:
    """A meeting moved or deleted in Outlook: the case follows and the pair is told.

    Sopu's own changes come back through the same feed and change nothing here.
    """
    link = await links.by_event(seen.organizer.lower(), seen.event_id)
    if link is None or link.state is not LinkState.SYNCED:
        return None  # not Sopu's event, or Sopu's own change is still on its way
    for attempt in range(5):
        now = clock.now()
        async with uow:
            case = await uow.cases.get(link.case_id, for_update=True)
            if case is None or case.id is None:
                return None
            meeting = next((m for m in case.meetings if m.id == link.meeting_id), None)
            if meeting is None or meeting.status is not MeetingStatus.BOOKED:
                return None
            if seen.removed or seen.cancelled:
                meeting.status = MeetingStatus.CANCELLED
                how, kind = "cancelled", CaseEventKind.MEETING_CANCELLED
                detail: dict[str, object] = {"meeting_id": meeting.id, "source": "calendar"}
            elif (
                seen.start is not None
                and seen.end is not None
                and (seen.start != meeting.starts_at or seen.end != meeting.ends_at)
            ):
                detail = {
                    "meeting_id": meeting.id,
                    "from": iso_minutes(meeting.starts_at),
                    "to": iso_minutes(seen.start),
                    "source": "calendar",
                }
                meeting.starts_at, meeting.ends_at = seen.start, seen.end
                how, kind = "moved", CaseEventKind.MEETING_MOVED
            else:
                return None
            try:
                await uow.cases.save(case)
            except errors.ConcurrentChange:
                if attempt == 4:
                    raise
                continue
            await uow.journal.case_event(CaseEvent(case.id, kind, None, now, detail))
            assert meeting.id is not None
            change = MeetingChanged(
                case.id,
                case.code,
                meeting.id,
                meeting.kind,
                meeting.parent_no,
                how,
                meeting.starts_at,
                meeting.ends_at,
                tuple(case.holder_ids()),
            )
            # The pair's notes and the channel card are committed with the change.
            stamp = f"v{case.version}"
            await tell_pair(uow, change, stamp, now)
            await uow.outbox.add([notices.card_changed(case.id, case.version, now)], now)
            await tell_family(uow, case, meeting, *family_change(case, meeting), now)
            await uow.commit()
        link.starts_at, link.ends_at = meeting.starts_at, meeting.ends_at
        if how == "cancelled":
            link.state = LinkState.CANCELLED
        await links.save(link)
        await notifier.meeting_changed(change)
        await case_notifier.notify(CaseChanged(case.id))
        return change
    return None
