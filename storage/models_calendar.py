"""Tables of the calendar feature: meetings' calendar events, the local calendar, Graph sync."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class MeetingEventRow(Base):
    """A meeting's event in its organising mediator's calendar, and what still has to reach it."""

    __tablename__ = "meeting_event"
    __table_args__ = (Index("ix_meeting_event_organizer_event_id", "organizer", "event_id"),)

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True
    )
    organizer: Mapped[str] = mapped_column(String(320))  # the mailbox, lower-case
    transaction_id: Mapped[str] = mapped_column(String(200), unique=True)
    event_id: Mapped[str | None] = mapped_column(String(400))
    state: Mapped[str] = mapped_column(String(20), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    attendees: Mapped[str] = mapped_column(Text)  # space-separated mailboxes
    comment: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class LocalEventRow(Base):
    """An event of the local calendar (SOPU_CALENDAR=local): Sopu's own calendar store."""

    __tablename__ = "local_event"
    __table_args__ = (
        UniqueConstraint("mailbox", "transaction_id"),
        Index("ix_local_event_mailbox_starts_at", "mailbox", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    all_day: Mapped[bool] = mapped_column(Boolean)
    show_as: Mapped[str] = mapped_column(String(20))
    attendees: Mapped[str] = mapped_column(Text)  # space-separated mailboxes
    transaction_id: Mapped[str | None] = mapped_column(String(200))
    cancelled: Mapped[bool] = mapped_column(Boolean)
    cancel_comment: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer)  # iCalendar SEQUENCE: bumped on every change
    updated_at: Mapped[datetime]


class CalendarFeedRow(Base):
    """The secret of a mediator's private .ics feed of the local calendar."""

    __tablename__ = "calendar_feed"

    mediator_id: Mapped[int] = mapped_column(
        ForeignKey("mediator.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # The last time the mediator asked for a new address (None: never).
    rotated_at: Mapped[datetime | None]


class GraphSubscriptionRow(Base):
    """A change-notification subscription on one mailbox's events."""

    __tablename__ = "graph_subscription"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320), index=True)
    client_state: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class GraphDeltaRow(Base):
    """Where the last delta round of a mailbox's calendar view left off."""

    __tablename__ = "graph_delta"

    mailbox: Mapped[str] = mapped_column(String(320), primary_key=True)
    delta_link: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
