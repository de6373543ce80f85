"""Consultations: the expert team's consultation requests, the experts asked, the journal.

Revision ID: 0015
Revises: 0001
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def person(
    table: str, column: str, *, nullable: bool = False
) -> list[sa.Column[object] | sa.Constraint]:
    return [
        sa.Column(column, sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint(
            [column], ["mediator.id"], name=op.f(f"fk_{table}_{column}_mediator")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        *person("consultation", "requester_id"),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("background", sa.Text(), nullable=False),
        sa.Column("birth_years", sa.String(length=60), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        moment("created_at"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        moment("consent_at", nullable=True),
        sa.Column("consent_given_on", sa.Date(), nullable=True),
        sa.Column("exception_justification", sa.Text(), nullable=True),
        moment("exception_asked_at", nullable=True),
        *person("consultation", "exception_approved_by", nullable=True),
        moment("exception_approved_at", nullable=True),
        sa.Column("answer_kind", sa.String(length=30), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        *person("consultation", "answer_by", nullable=True),
        moment("answered_at", nullable=True),
        moment("meeting_at", nullable=True),
        sa.Column("meeting_place", sa.Text(), nullable=False),
        sa.Column("meeting_attendees", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation")),
        sa.UniqueConstraint("code", name=op.f("uq_consultation_code")),
    )
    op.create_index(op.f("ix_consultation_requester_id"), "consultation", ["requester_id"])
    op.create_index(op.f("ix_consultation_status"), "consultation", ["status"])
    op.create_index(op.f("ix_consultation_day"), "consultation", ["day"])
    op.create_table(
        "consultation_invitation",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.SmallInteger(), nullable=False),
        *person("consultation_invitation", "person_id"),
        sa.Column("speciality", sa.String(length=60), nullable=False),
        moment("asked_at"),
        sa.Column("answer", sa.String(length=20), nullable=False),
        moment("answered_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_invitation_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consultation_id", "n", name=op.f("pk_consultation_invitation")),
    )
    op.create_index(
        op.f("ix_consultation_invitation_person_id"), "consultation_invitation", ["person_id"]
    )
    op.create_table(
        "consultation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        *person("consultation_event", "actor_id", nullable=True),
        moment("at"),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_event_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_event")),
    )
    op.create_index(
        op.f("ix_consultation_event_consultation_id"), "consultation_event", ["consultation_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_consultation_event_consultation_id"), table_name="consultation_event")
    op.drop_table("consultation_event")
    op.drop_index(
        op.f("ix_consultation_invitation_person_id"), table_name="consultation_invitation"
    )
    op.drop_table("consultation_invitation")
    for index in ("day", "status", "requester_id"):
        op.drop_index(op.f(f"ix_consultation_{index}"), table_name="consultation")
    op.drop_table("consultation")
