"""Intake: the weekdays that never suit the family, skipped when meeting times are proposed.

Revision ID: 0005
Revises: 0001
Create Date: 2026-02-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Cases registered before this had no such question: no excluded days.
    op.add_column(
        "mediation_case",
        sa.Column("excluded_days", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # SQLite drops a column only by rebuilding the table: batch mode does that.
    with op.batch_alter_table("mediation_case") as batch:
        batch.drop_column("excluded_days")
