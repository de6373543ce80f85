"""The calendar's tables: meetings' events, the local calendar and its feeds, Graph sync state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "meeting_event",
        sa.Column("meeting_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("organizer", sa.String(length=320), nullable=False),
        sa.Column("transaction_id", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=400), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        moment("starts_at"),
        moment("ends_at"),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        moment("updated_at"),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_event_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_meeting_event_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_meeting_event")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_meeting_event_transaction_id")),
    )
    op.create_index(op.f("ix_meeting_event_case_id"), "meeting_event", ["case_id"])
    op.create_index(op.f("ix_meeting_event_state"), "meeting_event", ["state"])
    op.create_index(
        "ix_meeting_event_organizer_event_id", "meeting_event", ["organizer", "event_id"]
    )
    op.create_table(
        "local_event",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        moment("starts_at"),
        moment("ends_at"),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("show_as", sa.String(length=20), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("transaction_id", sa.String(length=200), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("cancel_comment", sa.Text(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        moment("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_event")),
        sa.UniqueConstraint(
            "mailbox", "transaction_id", name=op.f("uq_local_event_mailbox_transaction_id")
        ),
    )
    op.create_index("ix_local_event_mailbox_starts_at", "local_event", ["mailbox", "starts_at"])
    op.create_table(
        "calendar_feed",
        sa.Column("mediator_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        moment("created_at"),
        sa.ForeignKeyConstraint(
            ["mediator_id"],
            ["mediator.id"],
            name=op.f("fk_calendar_feed_mediator_id_mediator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mediator_id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("token", name=op.f("uq_calendar_feed_token")),
    )
    op.create_table(
        "graph_subscription",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("client_state", sa.String(length=200), nullable=False),
        moment("expires_at"),
        moment("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_subscription")),
    )
    op.create_index(op.f("ix_graph_subscription_mailbox"), "graph_subscription", ["mailbox"])
    op.create_table(
        "graph_delta",
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("delta_link", sa.Text(), nullable=False),
        moment("updated_at"),
        sa.PrimaryKeyConstraint("mailbox", name=op.f("pk_graph_delta")),
    )


def downgrade() -> None:
    op.drop_table("graph_delta")
    op.drop_index(op.f("ix_graph_subscription_mailbox"), table_name="graph_subscription")
    op.drop_table("graph_subscription")
    op.drop_table("calendar_feed")
    op.drop_index("ix_local_event_mailbox_starts_at", table_name="local_event")
    op.drop_table("local_event")
    op.drop_index("ix_meeting_event_organizer_event_id", table_name="meeting_event")
    op.drop_index(op.f("ix_meeting_event_state"), table_name="meeting_event")
    op.drop_index(op.f("ix_meeting_event_case_id"), table_name="meeting_event")
    op.drop_table("meeting_event")
