"""Stores of the calendar feature: meetings' events, the local calendar, feeds, Graph sync."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.calendar import (
    CalendarSyncStore,
    EventLink,
    LinkState,
    LocalEvent,
    LocalEvents,
    MeetingFinder,
    Subscription,
    SyncEventLinks,
    UnrecordedMeeting,
)
from mediation.model import CaseStatus, MeetingKind, MeetingStatus
from mediation.ports import Clock
from storage.models import CaseRow, MeetingRow, SeatRow
from storage.models_calendar import (
    CalendarFeedRow,
    GraphDeltaRow,
    GraphSubscriptionRow,
    LocalEventRow,
    MeetingEventRow,
)

FEED_AHEAD = timedelta(days=3 * 366)
_ACTIVE = [s.value for s in CaseStatus if s.active]


def _link(row: MeetingEventRow) -> EventLink:
    return EventLink(
        meeting_id=row.meeting_id,
        case_id=row.case_id,
        organizer=row.organizer,
        transaction_id=row.transaction_id,
        state=LinkState(row.state),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        attendees=tuple(row.attendees.split()),
        event_id=row.event_id,
        comment=row.comment,
    )


class SqlEventLinks:
    """Implements ``mediation.calendar.EventLinks``; each call is its own transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def get(self, meeting_id: int) -> EventLink | None:
        async with self._sessions() as session:
            row = await session.get(MeetingEventRow, meeting_id)
            return _link(row) if row else None

    async def for_meetings(self, meeting_ids: Sequence[int]) -> dict[int, EventLink]:
        if not meeting_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.scalars(
                select(MeetingEventRow).where(MeetingEventRow.meeting_id.in_(list(meeting_ids)))
            )
            return {r.meeting_id: _link(r) for r in rows}

    async def by_event(self, organizer: str, event_id: str) -> EventLink | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(MeetingEventRow).where(
                    MeetingEventRow.organizer == organizer.lower(),
                    MeetingEventRow.event_id == event_id,
                )
            )
            return _link(row) if row else None

    async def save(self, link: EventLink) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(MeetingEventRow, link.meeting_id)
            if row is None:
                row = MeetingEventRow(meeting_id=link.meeting_id)
                session.add(row)
            row.case_id = link.case_id
            row.organizer = link.organizer.lower()
            row.transaction_id = link.transaction_id
            row.event_id = link.event_id
            row.state = link.state.value
            row.starts_at, row.ends_at = link.starts_at, link.ends_at
            row.attendees = " ".join(link.attendees)
            row.comment = link.comment
            row.updated_at = self._clock.now()

    async def pending(self) -> list[EventLink]:
        waiting = [s.value for s in LinkState if s.pending]
        async with self._sessions() as session:
            rows = await session.scalars(
                select(MeetingEventRow)
                .where(MeetingEventRow.state.in_(waiting))
                .order_by(MeetingEventRow.updated_at)
            )
            return [_link(r) for r in rows]

    async def organizers(self) -> list[str]:
        """Every mailbox that organises a meeting Sopu booked (the ones to keep in sync)."""
        async with self._sessions() as session:
            rows = await session.scalars(select(MeetingEventRow.organizer).distinct())
            return sorted(rows)


class SqlMeetingFinder:
    """Implements ``mediation.calendar.MeetingFinder``: meetings that ended, not recorded."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def ended_unrecorded(self, now: datetime) -> list[UnrecordedMeeting]:
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(MeetingRow, CaseRow.code)
                    .join(CaseRow, CaseRow.id == MeetingRow.case_id)
                    .where(
                        MeetingRow.status == MeetingStatus.BOOKED.value,
                        MeetingRow.ends_at <= now,
                        CaseRow.status.in_(_ACTIVE),
                    )
                    .order_by(MeetingRow.ends_at, MeetingRow.id)
                )
            ).all()
            case_ids = sorted({m.case_id for m, _ in rows})
            holders: dict[int, list[int]] = {}
            if case_ids:
                seats = await session.execute(
                    select(SeatRow.case_id, SeatRow.holder_id)
                    .where(SeatRow.case_id.in_(case_ids), SeatRow.holder_id.is_not(None))
                    .order_by(SeatRow.case_id, SeatRow.n)
                )
                for case_id, holder in seats:
                    if holder is not None:
                        holders.setdefault(case_id, []).append(holder)
        return [
            UnrecordedMeeting(
                meeting_id=m.id,
                case_id=m.case_id,
                code=code,
                kind=MeetingKind(m.kind),
                parent_no=m.parent_no,
                starts_at=m.starts_at,
                ends_at=m.ends_at,
                mediator_ids=tuple(holders.get(m.case_id, ())),
            )
            for m, code in rows
        ]


def _local(row: LocalEventRow) -> LocalEvent:
    return LocalEvent(
        row.id,
        row.mailbox,
        row.subject,
        row.body,
        row.starts_at,
        row.ends_at,
        row.all_day,
        row.show_as,
        tuple(row.attendees.split()),
        row.cancelled,
        row.cancel_comment,
        row.sequence,
        row.updated_at,
    )


class LocalEventStore:
    """The local calendar's events. An attendee sees an event in their calendar too."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

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
        mailbox = mailbox.lower()
        if transaction_id is not None:
            found = await self._by_transaction(mailbox, transaction_id)
            if found is not None:
                return found
        event_id = uuid.uuid4().hex
        try:
            async with self._sessions() as session, session.begin():
                session.add(
                    LocalEventRow(
                        id=event_id,
                        mailbox=mailbox,
                        subject=subject,
                        body=body,
                        starts_at=start,
                        ends_at=end,
                        all_day=all_day,
                        show_as=show_as,
                        attendees=" ".join(a.lower() for a in attendees),
                        transaction_id=transaction_id,
                        cancelled=False,
                        cancel_comment="",
                        sequence=0,
                        updated_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            # The same transaction id raced us in: that one is the event.
            assert transaction_id is not None
            found = await self._by_transaction(mailbox, transaction_id)
            if found is None:
                raise
            return found
        return event_id

    async def _by_transaction(self, mailbox: str, transaction_id: str) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(LocalEventRow.id).where(
                    LocalEventRow.mailbox == mailbox,
                    LocalEventRow.transaction_id == transaction_id,
                )
            )

    async def get(self, event_id: str) -> LocalEvent | None:
        async with self._sessions() as session:
            row = await session.get(LocalEventRow, event_id)
            return _local(row) if row else None

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
        async with self._sessions() as session, session.begin():
            row = await session.get(LocalEventRow, event_id)
            if row is None or row.mailbox != mailbox.lower():
                return False
            row.subject, row.body, row.starts_at, row.ends_at = subject, body, start, end
            row.attendees = " ".join(a.lower() for a in attendees)
            row.sequence += 1
            row.updated_at = self._clock.now()
            return True

    async def cancel(self, mailbox: str, event_id: str, comment: str) -> bool:
        async with self._sessions() as session, session.begin():
            row = await session.get(LocalEventRow, event_id)
            if row is None or row.mailbox != mailbox.lower():
                return False
            if not row.cancelled:
                row.cancelled, row.cancel_comment = True, comment
                row.sequence += 1
                row.updated_at = self._clock.now()
            return True

    async def between(
        self, mailboxes: Sequence[str], start: datetime, end: datetime, *, cancelled: bool = False
    ) -> list[LocalEvent]:
        """Events of the mailboxes (as organiser or attendee) overlapping [start, end)."""
        wanted = {m.lower() for m in mailboxes}
        async with self._sessions() as session:
            query = select(LocalEventRow).where(
                LocalEventRow.starts_at < end, LocalEventRow.ends_at > start
            )
            if not cancelled:
                query = query.where(LocalEventRow.cancelled.is_(False))
            rows = await session.scalars(query.order_by(LocalEventRow.starts_at))
            found = [_local(r) for r in rows]
        return [e for e in found if e.mailbox in wanted or wanted & set(e.attendees)]

    async def of_mailbox(self, mailbox: str, since: datetime) -> list[LocalEvent]:
        """Everything of a mailbox that ends after ``since``, cancelled ones included (a feed)."""
        return await self.between([mailbox], since, since + FEED_AHEAD, cancelled=True)


class FeedStore:
    """The secret tokens of the mediators' private .ics feeds."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def token_of(self, mediator_id: int) -> str:
        """The mediator's feed token, made on first use."""
        async with self._sessions() as session, session.begin():
            row = await session.get(CalendarFeedRow, mediator_id)
            if row is None:
                row = CalendarFeedRow(
                    mediator_id=mediator_id,
                    token=secrets.token_urlsafe(24),
                    created_at=self._clock.now(),
                )
                session.add(row)
            return row.token

    async def mediator_of(self, token: str) -> int | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(CalendarFeedRow.mediator_id).where(CalendarFeedRow.token == token)
            )

    async def rotate(self, mediator_id: int, keep_for: timedelta = timedelta(0)) -> str:
        """A new feed token for the mediator; the old one stops working at once.

        A token this rotated less than ``keep_for`` ago is kept: the same click delivered
        again must not take away the address its first answer showed. (A token made on first
        use is replaced at once: it may be the very address that leaked.)
        """
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await session.get(CalendarFeedRow, mediator_id, with_for_update=True)
            if row is None:
                row = CalendarFeedRow(mediator_id=mediator_id, token="", created_at=now)
                session.add(row)
            elif row.rotated_at is not None and row.rotated_at > now - keep_for:
                return row.token
            row.token = secrets.token_urlsafe(24)
            row.created_at = row.rotated_at = now
            return row.token

    async def forget(self, mediator_id: int) -> None:
        """The mediator left the registry: their feed address no longer answers."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(CalendarFeedRow).where(CalendarFeedRow.mediator_id == mediator_id)
            )


class SyncStore:
    """Graph subscriptions and delta links, per mailbox."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def subscriptions(self) -> list[Subscription]:
        async with self._sessions() as session:
            rows = await session.scalars(select(GraphSubscriptionRow))
            return [Subscription(r.id, r.mailbox, r.client_state, r.expires_at) for r in rows]

    async def subscriptions_by_id(self, ids: Collection[str]) -> dict[str, Subscription]:
        if not ids:
            return {}
        # Each length of an IN list is a statement of its own in the connection's cache of
        # prepared statements: padded to a power of two, posts naming 1 to 100 ids make
        # eight, not a hundred that would push the clicks' statements out.
        wanted = sorted(ids)
        wanted += wanted[-1:] * ((1 << (len(wanted) - 1).bit_length()) - len(wanted))
        async with self._sessions() as session:
            rows = await session.scalars(
                select(GraphSubscriptionRow).where(GraphSubscriptionRow.id.in_(wanted))
            )
            return {r.id: Subscription(r.id, r.mailbox, r.client_state, r.expires_at) for r in rows}

    async def save_subscription(self, sub: Subscription) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(GraphSubscriptionRow, sub.id)
            if row is None:
                row = GraphSubscriptionRow(id=sub.id, created_at=self._clock.now())
                session.add(row)
            row.mailbox, row.client_state, row.expires_at = (
                sub.mailbox.lower(),
                sub.client_state,
                sub.expires_at,
            )

    async def drop_subscription(self, subscription_id: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(GraphSubscriptionRow).where(GraphSubscriptionRow.id == subscription_id)
            )

    async def delta_link(self, mailbox: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(GraphDeltaRow, mailbox.lower())
            return row.delta_link if row else None

    async def save_delta_link(self, mailbox: str, link: str | None) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(GraphDeltaRow, mailbox.lower())
            if link is None:
                if row is not None:
                    await session.delete(row)
                return
            if row is None:
                row = GraphDeltaRow(mailbox=mailbox.lower())
                session.add(row)
            row.delta_link, row.updated_at = link, self._clock.now()


if TYPE_CHECKING:
    # mypy checks here that the stores fill the calendar's ports.
    _links: type[SyncEventLinks] = SqlEventLinks
    _finder: type[MeetingFinder] = SqlMeetingFinder
    _events: type[LocalEvents] = LocalEventStore
    _sync: type[CalendarSyncStore] = SyncStore
