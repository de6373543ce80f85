"""Tables of the scheduled jobs: the outbox, when each job last ran, joint-meeting agendas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class OutboxRow(Base):
    """One message Sopu sends on its own; the key columns are unique together."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "recipient", "subject", "period"),
        Index("ix_outbox_status_next_try_at", "status", "next_try_at"),
        # A card's updates still waiting, a case's post: found by subject (v0019).
        Index("ix_outbox_subject_status", "subject", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(320), index=True)  # Entra id, or an address
    subject: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(index=True)
    next_try_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    posting_at: Mapped[datetime | None]  # set just before the request to Teams goes out
    sent_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")


class JobRunRow(Base):
    """The last scheduled slot each job completed, so a run missed while down is caught up."""

    __tablename__ = "job_run"

    job_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_slot: Mapped[datetime]
    finished_at: Mapped[datetime]


class JointMeetingAgendaRow(Base):
    """The agenda link a coordinator set for one of the bank's joint meetings."""

    __tablename__ = "joint_meeting_agenda"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agenda_url: Mapped[str] = mapped_column(Text)
    set_by: Mapped[int] = mapped_column(ForeignKey("mediator.id"))
    set_at: Mapped[datetime]
