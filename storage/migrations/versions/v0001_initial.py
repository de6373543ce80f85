"""The initial schema: registry, cases and seats, families, meetings, journal, Teams state.

Revision ID: 0001
Revises:
Create Date: 2026-01-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # -- the registry --------------------------------------------------------------------
    op.create_table(
        "mediator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("employer", sa.Text(), nullable=False),
        sa.Column("languages", sa.String(length=50), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("experienced_mark", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        moment("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediator")),
        sa.UniqueConstraint("aad_object_id", name=op.f("uq_mediator_aad_object_id")),
    )
    op.create_table(
        "away_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mediator_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mediator_id"],
            ["mediator.id"],
            name=op.f("fk_away_period_mediator_id_mediator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_away_period")),
    )
    op.create_index(op.f("ix_away_period_mediator_id"), "away_period", ["mediator_id"])

    # -- cases and seats -------------------------------------------------------------------
    op.create_table(
        "mediation_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("type_code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        moment("created_at"),
        sa.Column("created_by", sa.Integer(), nullable=False),
        moment("closed_at", nullable=True),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("interpreter", sa.Boolean(), nullable=False),
        sa.Column("child_birth_years", sa.Text(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("preferred_times", sa.Text(), nullable=False),
        sa.Column("referral_source", sa.Text(), nullable=False),
        sa.Column("safety_concern", sa.Boolean(), nullable=False),
        sa.Column("safety_concern_open", sa.Boolean(), nullable=False),
        sa.Column("package_size", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["mediator.id"], name=op.f("fk_mediation_case_created_by_mediator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_case")),
        sa.UniqueConstraint("code", name=op.f("uq_mediation_case_code")),
    )
    op.create_index(op.f("ix_mediation_case_status"), "mediation_case", ["status"])
    op.create_table(
        "seat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        moment("taken_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_seat_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["mediator.id"], name=op.f("fk_seat_holder_id_mediator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat")),
        sa.UniqueConstraint("case_id", "n", name=op.f("uq_seat_case_id_n")),
        sa.UniqueConstraint("case_id", "holder_id", name=op.f("uq_seat_case_id_holder_id")),
    )
    op.create_index(op.f("ix_seat_holder_id"), "seat", ["holder_id"])

    # -- identifying client data, kept apart so that it can be purged ----------------------
    op.create_table(
        "family_parent",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("municipality", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_family_parent_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "n", name=op.f("pk_family_parent")),
    )
    op.create_table(
        "family_child",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_family_child_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_child")),
    )
    op.create_index(op.f("ix_family_child_case_id"), "family_child", ["case_id"])

    # -- meetings ----------------------------------------------------------------------------
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_no", sa.Integer(), nullable=True),
        moment("starts_at"),
        moment("ends_at"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("held_minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_meeting_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    op.create_index(op.f("ix_meeting_case_id"), "meeting", ["case_id"])

    # -- the audit trail and the access log ----------------------------------------------------
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        moment("at"),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["mediator.id"], name=op.f("fk_case_event_actor_id_mediator")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["mediation_case.id"], name=op.f("fk_case_event_case_id_mediation_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    op.create_index(op.f("ix_case_event_case_id"), "case_event", ["case_id"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("viewer_id", sa.Integer(), nullable=False),
        moment("at"),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["mediation_case.id"], name=op.f("fk_access_log_case_id_mediation_case")
        ),
        sa.ForeignKeyConstraint(
            ["viewer_id"], ["mediator.id"], name=op.f("fk_access_log_viewer_id_mediator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index(op.f("ix_access_log_case_id"), "access_log", ["case_id"])
    op.create_table(
        "mediator_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mediator_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        moment("at"),
        sa.Column("change", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["mediator.id"], name=op.f("fk_mediator_event_actor_id_mediator")
        ),
        sa.ForeignKeyConstraint(
            ["mediator_id"], ["mediator.id"], name=op.f("fk_mediator_event_mediator_id_mediator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediator_event")),
    )
    op.create_index(op.f("ix_mediator_event_mediator_id"), "mediator_event", ["mediator_id"])

    # -- the Teams side --------------------------------------------------------------------------
    op.create_table(
        "processed_activity",
        sa.Column("key", sa.Text(), nullable=False),
        moment("seen_at"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed_activity")),
    )
    op.create_index(op.f("ix_processed_activity_seen_at"), "processed_activity", ["seen_at"])
    op.create_table(
        "conversation_ref",
        sa.Column("aad_object_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        moment("updated_at"),
        sa.PrimaryKeyConstraint("aad_object_id", name=op.f("pk_conversation_ref")),
    )
    op.create_table(
        "bank_channel",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("service_url", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        moment("set_at"),
        sa.CheckConstraint("id = 1", name=op.f("ck_bank_channel_single_row")),
        sa.ForeignKeyConstraint(
            ["set_by"], ["mediator.id"], name=op.f("fk_bank_channel_set_by_mediator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_channel")),
    )
    op.create_table(
        "case_post",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        moment("posted_at"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["mediation_case.id"], name=op.f("fk_case_post_case_id_mediation_case")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_post")),
    )


def downgrade() -> None:
    for table in (
        "case_post",
        "bank_channel",
        "conversation_ref",
        "processed_activity",
        "mediator_event",
        "access_log",
        "case_event",
        "meeting",
        "family_child",
        "family_parent",
        "seat",
        "mediation_case",
        "away_period",
        "mediator",
    ):
        op.drop_table(table)
