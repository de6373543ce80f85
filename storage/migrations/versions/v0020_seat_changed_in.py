"""Seats: the case version in which each seat's holder last changed.

A card's button carries the case version it was drawn from. A seat that was claimed and
released again since looks as the card showed it, yet the card is older than the change:
this column tells such a card apart (mediation.rules.check_card_current).

Revision ID: 0020
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Seats changed before this count as changed in version 0: no card is older.
    op.add_column(
        "seat",
        sa.Column("changed_in", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # SQLite drops a column only by rebuilding the table: batch mode does that.
    with op.batch_alter_table("seat") as batch:
        batch.drop_column("changed_in")
