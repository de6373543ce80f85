"""The table of families' contact requests from the public form."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class ContactRequestRow(Base):
    """One parent's request; the coordinators' handling of it is kept on the same row."""

    __tablename__ = "contact_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    form_id: Mapped[str] = mapped_column(String(64), unique=True)  # a hash of the form's nonce
    parent_name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(String(30))
    email: Mapped[str] = mapped_column(Text)
    call_times: Mapped[str] = mapped_column(String(60))  # space-separated codes
    language: Mapped[str] = mapped_column(String(10))
    municipality: Mapped[str] = mapped_column(String(100))
    child_birth_years: Mapped[str] = mapped_column(String(80))  # "2017 2020"
    topics: Mapped[str] = mapped_column(String(100))
    other_parent_knows: Mapped[str] = mapped_column(String(10))
    urgent: Mapped[bool] = mapped_column(Boolean)
    page_lang: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    taken_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(SmallInteger)
    first_call_at: Mapped[datetime | None]
    last_call_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(30))
    referred_to: Mapped[str] = mapped_column(String(30))
    judged_by: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    judged_at: Mapped[datetime | None]
    # Each parent may send their own request: a case may have two.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("mediation_case.id", ondelete="SET NULL"), index=True
    )


# The queue reads the requests still waiting; the flood guard counts the last hour's.
Index("ix_contact_request_status", ContactRequestRow.status)
Index("ix_contact_request_created_at", ContactRequestRow.created_at)
