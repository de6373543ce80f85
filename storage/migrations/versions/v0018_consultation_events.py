"""Consultations: the client meeting's event in its organiser's calendar.

The meeting is saved with the answer and written into the calendar after the commit; these
columns say where that stands, so a crash in between leaves it to be written again (by its
transaction id, never twice).

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consultation") as batch:
        batch.add_column(sa.Column("event_organizer", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("event_mailboxes", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("event_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("event_state", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consultation") as batch:
        batch.drop_column("event_state")
        batch.drop_column("event_id")
        batch.drop_column("event_mailboxes")
        batch.drop_column("event_organizer")
