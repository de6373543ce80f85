"""Feedback: mediators' meeting and case feedback, client links, anonymous client answers.

Also indexes the core tables by time, for the statistics.

Revision ID: 0004
Revises: 0001
Create Date: 2026-02-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "meeting_feedback",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("mediator_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("cooperation", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        moment("updated_at"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_meeting_feedback_rating_range")),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_feedback_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mediator_id"], ["mediator.id"], name=op.f("fk_meeting_feedback_mediator_id_mediator")
        ),
        sa.PrimaryKeyConstraint("meeting_id", "mediator_id", name=op.f("pk_meeting_feedback")),
    )
    op.create_table(
        "case_feedback",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("mediator_id", sa.Integer(), nullable=False),
        sa.Column("package_rating", sa.SmallInteger(), nullable=False),
        sa.Column("pair_rating", sa.SmallInteger(), nullable=False),
        sa.Column("helped", sa.Text(), nullable=False),
        sa.Column("hard", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        moment("updated_at"),
        sa.CheckConstraint(
            "package_rating BETWEEN 1 AND 5", name=op.f("ck_case_feedback_package_range")
        ),
        sa.CheckConstraint("pair_rating BETWEEN 1 AND 5", name=op.f("ck_case_feedback_pair_range")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_case_feedback_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mediator_id"], ["mediator.id"], name=op.f("fk_case_feedback_mediator_id_mediator")
        ),
        sa.PrimaryKeyConstraint("case_id", "mediator_id", name=op.f("pk_case_feedback")),
    )
    op.create_table(
        "client_feedback_link",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=20), nullable=False),
        moment("created_at"),
        moment("expires_at"),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("last_form", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "uses BETWEEN 0 AND max_uses", name=op.f("ck_client_feedback_link_uses_range")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_client_feedback_link_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_client_feedback_link")),
        sa.UniqueConstraint("case_id", name=op.f("uq_client_feedback_link_case_id")),
    )
    op.create_table(
        "client_feedback",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=20), nullable=False),
        sa.Column("heard_from", sa.String(length=40), nullable=True),
        sa.Column("settled", sa.String(length=10), nullable=True),
        sa.Column("felt_heard", sa.SmallInteger(), nullable=True),
        sa.Column("impartial", sa.SmallInteger(), nullable=True),
        sa.Column("child_view", sa.SmallInteger(), nullable=True),
        sa.Column("recommend", sa.String(length=10), nullable=True),
        sa.Column("good", sa.Text(), nullable=False),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "felt_heard BETWEEN 1 AND 5", name=op.f("ck_client_feedback_felt_heard_range")
        ),
        sa.CheckConstraint(
            "impartial BETWEEN 1 AND 5", name=op.f("ck_client_feedback_impartial_range")
        ),
        sa.CheckConstraint(
            "child_view BETWEEN 1 AND 5", name=op.f("ck_client_feedback_child_view_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_feedback")),
    )
    op.create_index(op.f("ix_client_feedback_year"), "client_feedback", ["year"])
    op.create_index("ix_mediation_case_created_at", "mediation_case", ["created_at"])
    op.create_index("ix_meeting_starts_at", "meeting", ["starts_at"])


def downgrade() -> None:
    op.drop_index("ix_meeting_starts_at", table_name="meeting")
    op.drop_index("ix_mediation_case_created_at", table_name="mediation_case")
    op.drop_index(op.f("ix_client_feedback_year"), table_name="client_feedback")
    op.drop_table("client_feedback")
    op.drop_table("client_feedback_link")
    op.drop_table("case_feedback")
    op.drop_table("meeting_feedback")
