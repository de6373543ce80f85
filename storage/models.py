"""The database tables, as typed SQLAlchemy models; the domain never sees these."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """A moment stored in UTC; always read back as an aware UTC datetime.

    PostgreSQL keeps the zone in ``timestamptz``; SQLite keeps text without a zone, so the
    value is converted to UTC before it is written and marked UTC when it is read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware moments only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    # Named constraints read the same on SQLite and PostgreSQL and in the migrations.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


# -- the registry --------------------------------------------------------------------------


class MediatorRow(Base):
    __tablename__ = "mediator"

    id: Mapped[int] = mapped_column(primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(64), unique=True)  # always lower-case
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    employer: Mapped[str] = mapped_column(Text)
    languages: Mapped[str] = mapped_column(String(50))  # "fi sv"
    role: Mapped[str] = mapped_column(String(20))
    experienced_mark: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    away: Mapped[list[AwayPeriodRow]] = relationship(
        order_by="AwayPeriodRow.start", cascade="all, delete-orphan"
    )


class AwayPeriodRow(Base):
    __tablename__ = "away_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    mediator_id: Mapped[int] = mapped_column(
        ForeignKey("mediator.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)  # inclusive


# -- cases -----------------------------------------------------------------------------------


class CaseRow(Base):
    __tablename__ = "mediation_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    type_code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime]
    created_by: Mapped[int] = mapped_column(ForeignKey("mediator.id"))
    closed_at: Mapped[datetime | None]
    area: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(20))
    interpreter: Mapped[bool] = mapped_column(Boolean)
    child_birth_years: Mapped[str] = mapped_column(Text)  # "2017 2020"
    topics: Mapped[str] = mapped_column(Text)  # space-separated
    preferred_times: Mapped[str] = mapped_column(Text)  # space-separated
    excluded_days: Mapped[str] = mapped_column(Text, default="", server_default="")  # "mon fri"
    referral_source: Mapped[str] = mapped_column(Text)
    safety_concern: Mapped[bool] = mapped_column(Boolean)  # as recorded at intake
    safety_concern_open: Mapped[bool] = mapped_column(Boolean)
    package_size: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)

    seats: Mapped[list[SeatRow]] = relationship(order_by="SeatRow.n")
    meetings: Mapped[list[MeetingRow]] = relationship(order_by="MeetingRow.id")


class SeatRow(Base):
    __tablename__ = "seat"
    __table_args__ = (
        UniqueConstraint("case_id", "n"),
        # One person never sits twice on a case, even if two saves race.
        UniqueConstraint("case_id", "holder_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(40))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"), index=True)
    taken_at: Mapped[datetime | None]
    # The case version in which the holder last changed (mediation.model.Seat.changed_in).
    changed_in: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FamilyParentRow(Base):
    """A parent's contact data; erased by the retention purge, unlike the case."""

    __tablename__ = "family_parent"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_case.id", ondelete="CASCADE"), primary_key=True
    )
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    municipality: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(20))


class FamilyChildRow(Base):
    __tablename__ = "family_child"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True
    )
    birth_year: Mapped[int] = mapped_column(Integer)
    first_name: Mapped[str] = mapped_column(Text)


class MeetingRow(Base):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    parent_no: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    held_minutes: Mapped[int | None] = mapped_column(Integer)


# -- what the bank writes down ----------------------------------------------------------------


class CaseEventRow(Base):
    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class AccessLogRow(Base):
    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id"), index=True)
    viewer_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"))
    at: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(String(30))


class MediatorEventRow(Base):
    __tablename__ = "mediator_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    at: Mapped[datetime]
    change: Mapped[dict[str, Any]] = mapped_column(JSON)


# -- the Teams side ---------------------------------------------------------------------------


class ProcessedActivityRow(Base):
    """Keys of activities already handled, so a redelivery is recognised."""

    __tablename__ = "processed_activity"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class ConversationRefRow(Base):
    """A user's personal chat with the bot, for proactive messages."""

    __tablename__ = "conversation_ref"

    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime]
    # The chat's id, to find whose a personal chat is (bot/framework/endpoint.py).
    conversation_id: Mapped[str | None] = mapped_column(String(500), index=True)


class UserLanguageRow(Base):
    """The language a person chose for Sopu's answers to them (else their Teams' locale)."""

    __tablename__ = "user_language"

    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    chosen_at: Mapped[datetime]


class BankChannelRow(Base):
    """The one channel where the bank's cases are posted."""

    __tablename__ = "bank_channel"

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    team_id: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[str] = mapped_column(Text)
    service_url: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(Text)  # JSON
    set_by: Mapped[int] = mapped_column(ForeignKey("mediator.id"))
    set_at: Mapped[datetime]


class CasePostRow(Base):
    """Where a case's anonymous card was posted, so it can be updated in place."""

    __tablename__ = "case_post"

    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(Text)
    activity_id: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(Text)  # JSON
    posted_at: Mapped[datetime]
