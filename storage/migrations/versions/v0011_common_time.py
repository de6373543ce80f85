"""Common time: the family centre's cases with their consents, exceptions, invitations,
meetings and joint plan.

Revision ID: 0011
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def part(table: str, *columns: sa.Column[object] | sa.Constraint) -> None:
    """A numbered part of a common time, gone with it."""
    op.create_table(
        table,
        sa.Column("common_time_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.SmallInteger(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["common_time_id"],
            ["common_time.id"],
            name=op.f(f"fk_{table}_common_time_id_common_time"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("common_time_id", "n", name=op.f(f"pk_{table}")),
    )


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
        "common_time",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("convener_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.Text(), nullable=False),
        moment("created_at"),
        sa.Column("competences", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("responsible_ids", sa.Text(), nullable=False),
        sa.Column("plan_matters", sa.Text(), nullable=True),
        sa.Column("plan_follow_up_how", sa.Text(), nullable=True),
        sa.Column("plan_family_reaches_worker", sa.Text(), nullable=True),
        sa.Column("plan_next_contact", sa.Date(), nullable=True),
        sa.Column("plan_shared_with", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["convener_id"], ["mediator.id"], name=op.f("fk_common_time_convener_id_mediator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_common_time")),
        sa.UniqueConstraint("code", name=op.f("uq_common_time_code")),
    )
    op.create_index(op.f("ix_common_time_convener_id"), "common_time", ["convener_id"])
    op.create_index(op.f("ix_common_time_status"), "common_time", ["status"])
    part(
        "common_time_consent",
        sa.Column("steps", sa.String(length=100), nullable=False),
        *person("common_time_consent", "recorded_by"),
        moment("at"),
    )
    part(
        "common_time_consent_exception",
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        *person("common_time_consent_exception", "asked_by"),
        moment("asked_at"),
        *person("common_time_consent_exception", "approved_by", nullable=True),
        moment("approved_at", nullable=True),
    )
    part(
        "common_time_invitation",
        *person("common_time_invitation", "person_id"),
        sa.Column("competence", sa.String(length=60), nullable=False),
        moment("invited_at"),
        sa.Column("answer", sa.String(length=20), nullable=False),
        moment("answered_at", nullable=True),
    )
    op.create_index(
        op.f("ix_common_time_invitation_person_id"), "common_time_invitation", ["person_id"]
    )
    part(
        "common_time_meeting",
        sa.Column("kind", sa.String(length=20), nullable=False),
        moment("starts_at"),
        moment("ends_at"),
        sa.Column("room", sa.Text(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
    )
    part(
        "common_time_plan_action",
        sa.Column("place", sa.String(length=30), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("where", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=True),
    )


def downgrade() -> None:
    for table in (
        "common_time_plan_action",
        "common_time_meeting",
        "common_time_invitation",
        "common_time_consent_exception",
        "common_time_consent",
    ):
        op.drop_table(table)
    op.drop_index(op.f("ix_common_time_status"), table_name="common_time")
    op.drop_index(op.f("ix_common_time_convener_id"), table_name="common_time")
    op.drop_table("common_time")
