"""Everyday use: the language each person chose for Sopu's answers to them, and a feedback
link of their own for each parent.

Revision ID: 0007
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
# The feedback links' table is made by 0004, another branch from 0001.
depends_on: str | Sequence[str] | None = ("0004",)


def upgrade() -> None:
    op.create_table(
        "user_language",
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("aad_object_id", name=op.f("pk_user_language")),
    )
    # A link made before this was the case's one link for both parents: parent 0.
    with op.batch_alter_table("client_feedback_link") as batch:
        batch.add_column(
            sa.Column("parent_no", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch.drop_constraint(op.f("uq_client_feedback_link_case_id"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_client_feedback_link_case_id_parent_no"), ["case_id", "parent_no"]
        )


def downgrade() -> None:
    with op.batch_alter_table("client_feedback_link") as batch:
        batch.drop_constraint(op.f("uq_client_feedback_link_case_id_parent_no"), type_="unique")
        batch.drop_column("parent_no")
        batch.create_unique_constraint(op.f("uq_client_feedback_link_case_id"), ["case_id"])
    op.drop_table("user_language")
