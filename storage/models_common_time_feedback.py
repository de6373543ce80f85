"""Tables of the feedback on common times: the attendees' answers, the family's link and its
anonymous answers (mediation/common_time_feedback.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class CommonTimeFeedbackRow(Base):
    """An attendee's answer about a held common-time meeting; one per person and case."""

    __tablename__ = "common_time_feedback"
    __table_args__ = (CheckConstraint("useful BETWEEN 1 AND 5", name="useful_range"),)

    common_time_id: Mapped[int] = mapped_column(
        ForeignKey("common_time.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)  # the meeting's year
    useful: Mapped[int] = mapped_column(SmallInteger)
    competences_present: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class CommonTimeFamilyLinkRow(Base):
    """The family's feedback link: counts its uses, never says who used it or when."""

    __tablename__ = "common_time_family_link"
    __table_args__ = (CheckConstraint("uses BETWEEN 0 AND max_uses", name="uses_range"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    common_time_id: Mapped[int] = mapped_column(
        ForeignKey("common_time.id", ondelete="CASCADE"), unique=True
    )
    year: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    uses: Mapped[int] = mapped_column(Integer, default=0)
    max_uses: Mapped[int] = mapped_column(Integer)
    # A hash of the last form sent through the link, so a double submit takes no second use.
    last_form: Mapped[str | None] = mapped_column(String(64))


class CommonTimeFamilyAnswerRow(Base):
    """One anonymous answer of a family: without a case, a token, a time or a sequential
    id, only the year the statistics count it in (as the bank's client answers)."""

    __tablename__ = "common_time_family_answer"
    __table_args__ = (
        CheckConstraint("useful BETWEEN 1 AND 5", name="useful_range"),
        CheckConstraint("heard BETWEEN 1 AND 5", name="heard_range"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    useful: Mapped[int | None] = mapped_column(SmallInteger)
    heard: Mapped[int | None] = mapped_column(SmallInteger)
    good: Mapped[str] = mapped_column(Text)
