"""The jobs' tables: the outbox, the last run of each job, joint-meeting agendas.

Revision ID: 0003
Revises: 0001
Create Date: 2026-02-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        moment("created_at"),
        moment("next_try_at"),
        moment("claimed_at", nullable=True),
        moment("posting_at", nullable=True),
        moment("sent_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "kind",
            "recipient",
            "subject",
            "period",
            name=op.f("uq_outbox_kind_recipient_subject_period"),
        ),
    )
    op.create_index("ix_outbox_status_next_try_at", "outbox", ["status", "next_try_at"])
    op.create_index(op.f("ix_outbox_recipient"), "outbox", ["recipient"])
    op.create_index(op.f("ix_outbox_created_at"), "outbox", ["created_at"])
    op.create_table(
        "job_run",
        sa.Column("job_id", sa.String(length=60), nullable=False),
        moment("last_slot"),
        moment("finished_at"),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_run")),
    )
    op.create_table(
        "joint_meeting_agenda",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agenda_url", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        moment("set_at"),
        sa.ForeignKeyConstraint(
            ["set_by"], ["mediator.id"], name=op.f("fk_joint_meeting_agenda_set_by_mediator")
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_joint_meeting_agenda")),
    )


def downgrade() -> None:
    op.drop_table("joint_meeting_agenda")
    op.drop_table("job_run")
    op.drop_index(op.f("ix_outbox_created_at"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_recipient"), table_name="outbox")
    op.drop_index("ix_outbox_status_next_try_at", table_name="outbox")
    op.drop_table("outbox")
