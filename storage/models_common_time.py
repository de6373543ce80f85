"""The tables of the family centre's common times (mediation/common_time.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base


class CommonTimeRow(Base):
    """One family's common time; its parts are numbered rows kept in the order they came."""

    __tablename__ = "common_time"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    convener_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), index=True)
    municipality: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    competences: Mapped[str] = mapped_column(Text)  # space-separated codes
    status: Mapped[str] = mapped_column(String(20), index=True)
    responsible_ids: Mapped[str] = mapped_column(Text, default="")  # "3 5"
    # The joint plan, once recorded (its actions are rows of their own).
    plan_matters: Mapped[str | None] = mapped_column(Text)
    plan_follow_up_how: Mapped[str | None] = mapped_column(Text)
    plan_family_reaches_worker: Mapped[str | None] = mapped_column(Text)
    plan_next_contact: Mapped[date | None] = mapped_column(Date)
    plan_shared_with: Mapped[str] = mapped_column(Text, default="")  # "4 7"
    version: Mapped[int] = mapped_column(Integer)
    ended_at: Mapped[datetime | None]  # closed or cancelled
    purged_at: Mapped[datetime | None]  # its texts erased after the retention time

    consents: Mapped[list[CommonTimeConsentRow]] = relationship(
        order_by="CommonTimeConsentRow.n", cascade="all, delete-orphan"
    )
    exceptions: Mapped[list[ConsentExceptionRow]] = relationship(
        order_by="ConsentExceptionRow.n", cascade="all, delete-orphan"
    )
    invitations: Mapped[list[InvitationRow]] = relationship(
        order_by="InvitationRow.n", cascade="all, delete-orphan"
    )
    meetings: Mapped[list[CommonTimeMeetingRow]] = relationship(
        order_by="CommonTimeMeetingRow.n", cascade="all, delete-orphan"
    )
    actions: Mapped[list[PlanActionRow]] = relationship(
        order_by="PlanActionRow.n", cascade="all, delete-orphan"
    )

    # The repository sets the version itself at each save, so a change of a part alone
    # (an invitation answered) also moves it.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012


def _owner() -> Mapped[int]:
    return mapped_column(ForeignKey("common_time.id", ondelete="CASCADE"), primary_key=True)


class CommonTimeConsentRow(Base):
    __tablename__ = "common_time_consent"

    common_time_id: Mapped[int] = _owner()
    n: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    steps: Mapped[str] = mapped_column(String(100))  # space-separated
    recorded_by: Mapped[int] = mapped_column(ForeignKey("mediator.id"))
    at: Mapped[datetime]


class ConsentExceptionRow(Base):
    __tablename__ = "common_time_consent_exception"

    common_time_id: Mapped[int] = _owner()
    n: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    step: Mapped[str] = mapped_column(String(20))
    justification: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[int] = mapped_column(ForeignKey("mediator.id"))
    asked_at: Mapped[datetime]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    approved_at: Mapped[datetime | None]


class InvitationRow(Base):
    __tablename__ = "common_time_invitation"

    common_time_id: Mapped[int] = _owner()
    n: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), index=True)
    competence: Mapped[str] = mapped_column(String(60))
    invited_at: Mapped[datetime]
    answer: Mapped[str] = mapped_column(String(20))
    answered_at: Mapped[datetime | None]


class CommonTimeMeetingRow(Base):
    __tablename__ = "common_time_meeting"

    common_time_id: Mapped[int] = _owner()
    n: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    room: Mapped[str] = mapped_column(Text)
    held: Mapped[bool] = mapped_column(Boolean)
    cancelled: Mapped[bool] = mapped_column(Boolean)
    organizer: Mapped[str] = mapped_column(Text, default="", server_default="")
    attendees: Mapped[str] = mapped_column(Text, default="", server_default="")  # space-separated
    event_id: Mapped[str | None] = mapped_column(Text)
    calendar: Mapped[str] = mapped_column(String(20), default="synced", server_default="synced")


class PlanActionRow(Base):
    __tablename__ = "common_time_plan_action"

    common_time_id: Mapped[int] = _owner()
    n: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    place: Mapped[str] = mapped_column(String(30))
    what: Mapped[str] = mapped_column(Text)
    where: Mapped[str] = mapped_column(Text)
    done: Mapped[bool | None] = mapped_column(Boolean)


class CommonTimeEventRow(Base):
    """The common time's journal: who did what and when, and each reading of the plan."""

    __tablename__ = "common_time_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    common_time_id: Mapped[int] = mapped_column(
        ForeignKey("common_time.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # ids and codes only, never a text
