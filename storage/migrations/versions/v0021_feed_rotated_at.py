"""Calendar feeds: when a mediator last asked for a new address.

A click that asks for a new feed address may be delivered twice; the address its first
answer showed is kept for a few seconds. That grace was measured from when the token was
made, so a token made on first use (the address shown once) could not be replaced at once:
it is now measured from the last rotation only.

Revision ID: 0021
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "calendar_feed",
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("calendar_feed") as batch:
        batch.drop_column("rotated_at")
