"""Common time: each meeting's event in its organiser's calendar, and the case's journal.

A booked meeting is saved first and written into the calendar after the commit; the
columns say where that stands, so that a crash in between leaves the meeting to be
written again (by its transaction id, never twice).

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("common_time_meeting") as batch:
        batch.add_column(sa.Column("organizer", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("attendees", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("event_id", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("calendar", sa.String(length=20), nullable=False, server_default="synced")
        )

    op.create_table(
        "common_time_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("common_time_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["common_time_id"],
            ["common_time.id"],
            name=op.f("fk_common_time_event_common_time_id_common_time"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["mediator.id"], name=op.f("fk_common_time_event_actor_id_mediator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_common_time_event")),
    )
    op.create_index(
        op.f("ix_common_time_event_common_time_id"), "common_time_event", ["common_time_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_common_time_event_common_time_id"), table_name="common_time_event")
    op.drop_table("common_time_event")
    with op.batch_alter_table("common_time_meeting") as batch:
        batch.drop_column("calendar")
        batch.drop_column("event_id")
        batch.drop_column("attendees")
        batch.drop_column("organizer")
