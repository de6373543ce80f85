"""Tables of the feedback feature: mediators' feedback, client links and anonymous answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, CaseRow, MeetingRow


class MeetingFeedbackRow(Base):
    """A mediator's few words after one meeting; one row per mediator and meeting."""

    __tablename__ = "meeting_feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True
    )
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), primary_key=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    cooperation: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text)  # for the coordinators only
    updated_at: Mapped[datetime]


class CaseFeedbackRow(Base):
    """A mediator's look back at a whole package; one row per mediator and case."""

    __tablename__ = "case_feedback"
    __table_args__ = (
        CheckConstraint("package_rating BETWEEN 1 AND 5", name="package_range"),
        CheckConstraint("pair_rating BETWEEN 1 AND 5", name="pair_range"),
    )

    case_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_case.id", ondelete="CASCADE"), primary_key=True
    )
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), primary_key=True)
    package_rating: Mapped[int] = mapped_column(SmallInteger)
    pair_rating: Mapped[int] = mapped_column(SmallInteger)
    helped: Mapped[str] = mapped_column(Text)  # space-separated codes
    hard: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)  # for the coordinators only
    updated_at: Mapped[datetime]


class ClientLinkRow(Base):
    """A parent's one-time feedback link: counts its uses, never says who used it or when."""

    __tablename__ = "client_feedback_link"
    __table_args__ = (
        CheckConstraint("uses BETWEEN 0 AND max_uses", name="uses_range"),
        UniqueConstraint("case_id", "parent_no"),
    )

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id", ondelete="CASCADE"))
    # 1 or 2: each parent has a link of their own; 0 is a link of both (made before).
    parent_no: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    year: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    uses: Mapped[int] = mapped_column(Integer, default=0)
    max_uses: Mapped[int] = mapped_column(Integer)
    # A hash of the last form sent through the link, so a double submit takes no second use.
    last_form: Mapped[str | None] = mapped_column(String(64))


class ClientAnswerRow(Base):
    """One parent's anonymous answers.

    Deliberately without a case id, a token, a time or a sequential id: only the term
    bucket the statistics group by. The random key keeps even the insert order unknown.
    """

    __tablename__ = "client_feedback"
    __table_args__ = (
        CheckConstraint("felt_heard BETWEEN 1 AND 5", name="felt_heard_range"),
        CheckConstraint("impartial BETWEEN 1 AND 5", name="impartial_range"),
        CheckConstraint("child_view BETWEEN 1 AND 5", name="child_view_range"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    term: Mapped[str] = mapped_column(String(20))
    heard_from: Mapped[str | None] = mapped_column(String(40))
    settled: Mapped[str | None] = mapped_column(String(10))
    felt_heard: Mapped[int | None] = mapped_column(SmallInteger)
    impartial: Mapped[int | None] = mapped_column(SmallInteger)
    child_view: Mapped[int | None] = mapped_column(SmallInteger)
    recommend: Mapped[str | None] = mapped_column(String(10))
    good: Mapped[str] = mapped_column(Text)
    missing: Mapped[str] = mapped_column(Text)


# The statistics read the core tables by time; these indexes keep a year's figures fast.
Index("ix_mediation_case_created_at", CaseRow.created_at)
Index("ix_meeting_starts_at", MeetingRow.starts_at)
