"""The tables of the messages to families: the coordinators' templates, the development mailbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class FamilyTemplateRow(Base):
    """A coordinator's wording of one message in one language (the catalogs hold the default)."""

    __tablename__ = "family_template"

    message: Mapped[str] = mapped_column(String(20), primary_key=True)
    lang: Mapped[str] = mapped_column(String(5), primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("mediator.id", ondelete="SET NULL"))


class DevMailRow(Base):
    """An e-mail that development mode delivered to its own mailbox instead of sending it."""

    __tablename__ = "dev_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # the outbox message's key
    to: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
