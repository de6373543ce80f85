"""Contact requests: the families' public form and the coordinators' queue.

Revision ID: 0008
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "contact_request",
        sa.Column("id", sa.Integer(), nullable=False),
        moment("created_at"),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("parent_name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("call_times", sa.String(length=60), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("child_birth_years", sa.String(length=80), nullable=False),
        sa.Column("topics", sa.String(length=100), nullable=False),
        sa.Column("other_parent_knows", sa.String(length=10), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("page_lang", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("taken_by", sa.Integer(), nullable=True),
        moment("taken_at", nullable=True),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        moment("first_call_at", nullable=True),
        moment("last_call_at", nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("referred_to", sa.String(length=30), nullable=False),
        sa.Column("judged_by", sa.Integer(), nullable=True),
        moment("judged_at", nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["taken_by"], ["mediator.id"], name=op.f("fk_contact_request_taken_by_mediator")
        ),
        sa.ForeignKeyConstraint(
            ["judged_by"], ["mediator.id"], name=op.f("fk_contact_request_judged_by_mediator")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_contact_request_case_id_mediation_case"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_request")),
        sa.UniqueConstraint("form_id", name=op.f("uq_contact_request_form_id")),
    )
    op.create_index("ix_contact_request_status", "contact_request", ["status"])
    op.create_index("ix_contact_request_created_at", "contact_request", ["created_at"])
    op.create_index("ix_contact_request_case_id", "contact_request", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_contact_request_case_id", table_name="contact_request")
    op.drop_index("ix_contact_request_created_at", table_name="contact_request")
    op.drop_index("ix_contact_request_status", table_name="contact_request")
    op.drop_table("contact_request")
