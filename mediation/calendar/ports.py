"""What the meeting use cases need from calendars and stores, and the values they exchange."""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from mediation.calendar.policy import MeetingPolicy
from mediation.model import MeetingKind
from mediation.policy import BankPolicy
from mediation.ports import Clock, Notifier
from mediation.slots import Schedule


@dataclass(frozen=True)
class EventDraft:
    """What Sopu writes into a calendar: never a family's name, only the case code."""

    subject: str
    body: str
    start: datetime
    end: datetime
    attendees: tuple[str, ...]
    transaction_id: str
    online: bool = True
    rooms: tuple[str, ...] = ()  # room mailboxes, invited as resources (also in attendees)
    location: str = ""  # the room's name, shown as the event's place


class Calendar(Protocol):
    async def schedules(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> list[Schedule]:
        """Each mailbox's free/busy over [start, end), in the order asked."""
        ...

    async def create_event(self, organizer: str, draft: EventDraft) -> str:
        """Create (or find, by the draft's transaction id) the event; returns its id."""
        ...

    async def update_event(self, organizer: str, event_id: str, draft: EventDraft) -> None: ...

    async def cancel_event(self, organizer: str, event_id: str, comment: str) -> None:
        """Cancel with a message to the attendees; an event already gone is not an error."""
        ...


class LinkState(enum.StrEnum):
    """Where a meeting stands in its organiser's calendar."""

    CREATE = "create"  # saved in Sopu, not yet confirmed by the calendar
    SYNCED = "synced"
    UPDATE = "update"  # moved in Sopu, the calendar not yet patched
    CANCEL = "cancel"  # cancelled in Sopu, the calendar not yet told
    CANCELLED = "cancelled"

    @property
    def pending(self) -> bool:
        return self in (LinkState.CREATE, LinkState.UPDATE, LinkState.CANCEL)


@dataclass
class EventLink:
    """A meeting's event in its organiser's calendar."""

    meeting_id: int
    case_id: int
    organizer: str
    transaction_id: str
    state: LinkState
    starts_at: datetime
    ends_at: datetime
    attendees: tuple[str, ...] = ()
    event_id: str | None = None
    comment: str = ""  # the cancellation message


class EventLinks(Protocol):
    async def get(self, meeting_id: int) -> EventLink | None: ...

    async def for_meetings(self, meeting_ids: Sequence[int]) -> dict[int, EventLink]: ...

    async def by_event(self, organizer: str, event_id: str) -> EventLink | None: ...

    async def save(self, link: EventLink) -> None: ...

    async def pending(self) -> list[EventLink]: ...


class EventWording(Protocol):
    """The texts of calendar events, in the bank's language (the bot fills them)."""

    def subject(self, code: str, kind: MeetingKind, parent_no: int | None) -> str: ...

    def body(self, code: str) -> str: ...

    def cancel_comment(self, code: str) -> str: ...


ClosedDays = Callable[[date, date], frozenset[date]]
"""The days no meeting is booked between two dates (inclusive): public holidays."""


@dataclass(frozen=True)
class MeetingChanged:
    """A meeting was moved or cancelled outside Sopu (in Outlook); the pair hears of it."""

    case_id: int
    code: str
    meeting_id: int
    kind: MeetingKind
    parent_no: int | None
    how: str  # "moved" or "cancelled"
    starts_at: datetime
    ends_at: datetime
    mediator_ids: tuple[int, ...]


class MeetingNotifier(Protocol):
    async def meeting_changed(self, change: MeetingChanged) -> None: ...


@dataclass(frozen=True)
class UnrecordedMeeting:
    """A booked meeting whose time has passed and that nobody has recorded yet."""

    meeting_id: int
    case_id: int
    code: str
    kind: MeetingKind
    parent_no: int | None
    starts_at: datetime
    ends_at: datetime
    mediator_ids: tuple[int, ...]


class MeetingFinder(Protocol):
    async def ended_unrecorded(self, now: datetime) -> list[UnrecordedMeeting]: ...


@dataclass(frozen=True)
class CalendarDeps:
    """What the meeting use cases need besides the unit of work."""

    calendar: Calendar
    links: EventLinks
    notifier: Notifier
    clock: Clock
    policy: BankPolicy
    meetings: MeetingPolicy
    wording: EventWording
    closed_days: ClosedDays


@dataclass(frozen=True)
class EventSeen:
    """An event as a calendar's change feed reports it."""

    organizer: str
    event_id: str
    start: datetime | None = None
    end: datetime | None = None
    cancelled: bool = False
    removed: bool = False


# -- the calendar sync's store (Microsoft Graph) ------------------------------------------------


class SyncEventLinks(EventLinks, Protocol):
    """The event links as the calendar sync reads them: also who organises Sopu's meetings."""

    async def organizers(self) -> list[str]:
        """Every mailbox that organises a meeting of Sopu's."""
        ...


@dataclass(frozen=True)
class Subscription:
    """A change subscription on one mailbox's calendar, and the secret its notifications carry."""

    id: str
    mailbox: str
    client_state: str
    expires_at: datetime


class CalendarSyncStore(Protocol):
    """The calendar sync's subscriptions and delta links, per mailbox; each call commits."""

    async def subscriptions(self) -> list[Subscription]: ...

    async def subscriptions_by_id(self, ids: Collection[str]) -> dict[str, Subscription]:
        """Those of ``ids`` that are Sopu's subscriptions, in one look."""
        ...

    async def save_subscription(self, sub: Subscription) -> None: ...

    async def drop_subscription(self, subscription_id: str) -> None: ...

    async def delta_link(self, mailbox: str) -> str | None: ...

    async def save_delta_link(self, mailbox: str, link: str | None) -> None:
        """Remember where the next delta round starts; None forgets it (a full round next)."""
        ...


# -- the local calendar's store ------------------------------------------------------------------


@dataclass(frozen=True)
class LocalEvent:
    """An event of Sopu's own calendar, as its .ics feed shows it."""

    id: str
    mailbox: str
    subject: str
    body: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    show_as: str
    attendees: tuple[str, ...]
    cancelled: bool
    cancel_comment: str
    sequence: int
    updated_at: datetime


class LocalEvents(Protocol):
    """The local calendar's events; an attendee sees an event in their calendar too."""

    async def add(
        self,
        mailbox: str,
        subject: str,
        body: str,
        start: datetime,
        end: datetime,
        *,
        attendees: Sequence[str] = (),
        transaction_id: str | None = None,
        all_day: bool = False,
        show_as: str = "busy",
    ) -> str:
        """A new event's id; the same transaction id in the same mailbox gives the first one."""
        ...

    async def update(
        self,
        mailbox: str,
        event_id: str,
        *,
        subject: str,
        body: str,
        start: datetime,
        end: datetime,
        attendees: Sequence[str],
    ) -> bool:
        """False when the mailbox has no such event."""
        ...

    async def cancel(self, mailbox: str, event_id: str, comment: str) -> bool:
        """False when the mailbox has no such event; cancelling twice changes nothing."""
        ...

    async def between(
        self, mailboxes: Sequence[str], start: datetime, end: datetime, *, cancelled: bool = False
    ) -> list[LocalEvent]:
        """Events of the mailboxes (as organiser or attendee) overlapping [start, end)."""
        ...
