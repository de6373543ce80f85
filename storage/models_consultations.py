"""The tables of the expert team's consultation requests (mediation/consultation.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base


class ConsultationRow(Base):
    """One consultation request: no family's name or identity code, by design."""

    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), index=True)
    region: Mapped[str] = mapped_column(Text)
    categories: Mapped[str] = mapped_column(Text)  # space-separated codes
    question: Mapped[str] = mapped_column(Text)
    background: Mapped[str] = mapped_column(Text)
    birth_years: Mapped[str] = mapped_column(String(60))  # "2014 2017"
    urgent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), index=True)
    day: Mapped[date | None] = mapped_column(Date, index=True)
    # The family's consent, recorded by the requester, and the day it was given.
    consent_at: Mapped[datetime | None]
    consent_given_on: Mapped[date | None] = mapped_column(Date)
    # Or the exception: its justification, who asked and who approved.
    exception_justification: Mapped[str | None] = mapped_column(Text)
    exception_asked_at: Mapped[datetime | None]
    exception_approved_by: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    exception_approved_at: Mapped[datetime | None]
    # The team's answer.
    answer_kind: Mapped[str | None] = mapped_column(String(30))
    answer_text: Mapped[str | None] = mapped_column(Text)
    answer_by: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    answered_at: Mapped[datetime | None]
    meeting_at: Mapped[datetime | None]
    meeting_place: Mapped[str] = mapped_column(Text, default="")
    meeting_attendees: Mapped[str] = mapped_column(Text, default="")  # "3 5"
    # The client meeting's event in its organiser's calendar (mediation.common_time.EventState).
    event_organizer: Mapped[str] = mapped_column(Text, default="", server_default="")
    event_mailboxes: Mapped[str] = mapped_column(Text, default="", server_default="")
    event_id: Mapped[str | None] = mapped_column(Text)
    event_state: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)

    invitations: Mapped[list[ConsultationInvitationRow]] = relationship(
        order_by="ConsultationInvitationRow.n", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012


class ConsultationInvitationRow(Base):
    """An expert asked for a speciality, numbered in the order asked."""

    __tablename__ = "consultation_invitation"

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True
    )
    n: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), index=True)
    speciality: Mapped[str] = mapped_column(String(60))
    asked_at: Mapped[datetime]
    answer: Mapped[str] = mapped_column(String(20))
    answered_at: Mapped[datetime | None]


class ConsultationEventRow(Base):
    """The request's journal: who did what and when, and who saw its texts or its answer."""

    __tablename__ = "consultation_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # ids and codes only, never a text
