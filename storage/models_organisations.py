"""The tables of the network's organisations and of its people's qualifications."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class OrganisationRow(Base):
    """An organisation whose workers the bank's registry names as their employer."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # The name as mediators' employer cells are matched with it (case and spacing aside).
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str | None] = mapped_column(String(30))
    agreement_start: Mapped[date | None] = mapped_column(Date)
    agreement_end: Mapped[date | None] = mapped_column(Date)
    yearly_hours: Mapped[int | None] = mapped_column(Integer)


class QualificationRow(Base):
    """One qualification the registry records of a person (mediation.case_types)."""

    __tablename__ = "mediator_qualification"

    mediator_id: Mapped[int] = mapped_column(
        ForeignKey("mediator.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
