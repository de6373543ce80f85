"""The tables of the walk-in service and phone hours (mediation/walk_in.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class ShiftRow(Base):
    """One walk-in shift or phone hour; one row per kind and start, so a rota filled twice
    adds nothing."""

    __tablename__ = "shift"
    __table_args__ = (UniqueConstraint("kind", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date, index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"), index=True)


class ShiftSwapRow(Base):
    """A shift offered to a colleague, with a shift of theirs in return or none."""

    __tablename__ = "shift_swap"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id"), index=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"))
    to_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), index=True)
    return_shift_id: Mapped[int | None] = mapped_column(ForeignKey("shift.id"))
    state: Mapped[str] = mapped_column(String(10))
    offered_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class VisitRow(Base):
    """One walk-in visit: its kind, minutes and referral. No column about who came."""

    __tablename__ = "walk_in_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int] = mapped_column(SmallInteger)
    referral: Mapped[str] = mapped_column(String(20))
    booked: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("mediator.id"))
    recorded_at: Mapped[datetime]
    # The record button's nonce: the same form submitted twice records one visit.
    form_id: Mapped[str | None] = mapped_column(String(64), unique=True)
