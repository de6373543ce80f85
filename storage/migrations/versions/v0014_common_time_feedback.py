"""Common time: the attendees' feedback, the family's feedback link and its anonymous answers.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "common_time_feedback",
        sa.Column("common_time_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("useful", sa.SmallInteger(), nullable=False),
        sa.Column("competences_present", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        moment("at"),
        sa.CheckConstraint(
            "useful BETWEEN 1 AND 5", name=op.f("ck_common_time_feedback_useful_range")
        ),
        sa.ForeignKeyConstraint(
            ["common_time_id"],
            ["common_time.id"],
            name=op.f("fk_common_time_feedback_common_time_id_common_time"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["mediator.id"], name=op.f("fk_common_time_feedback_person_id_mediator")
        ),
        sa.PrimaryKeyConstraint(
            "common_time_id", "person_id", name=op.f("pk_common_time_feedback")
        ),
    )
    op.create_index(op.f("ix_common_time_feedback_year"), "common_time_feedback", ["year"])
    op.create_table(
        "common_time_family_link",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("common_time_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        moment("created_at"),
        moment("expires_at"),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("last_form", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "uses BETWEEN 0 AND max_uses", name=op.f("ck_common_time_family_link_uses_range")
        ),
        sa.ForeignKeyConstraint(
            ["common_time_id"],
            ["common_time.id"],
            name=op.f("fk_common_time_family_link_common_time_id_common_time"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_common_time_family_link")),
        sa.UniqueConstraint(
            "common_time_id", name=op.f("uq_common_time_family_link_common_time_id")
        ),
    )
    op.create_table(
        "common_time_family_answer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("useful", sa.SmallInteger(), nullable=True),
        sa.Column("heard", sa.SmallInteger(), nullable=True),
        sa.Column("good", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "useful BETWEEN 1 AND 5", name=op.f("ck_common_time_family_answer_useful_range")
        ),
        sa.CheckConstraint(
            "heard BETWEEN 1 AND 5", name=op.f("ck_common_time_family_answer_heard_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_common_time_family_answer")),
    )
    op.create_index(
        op.f("ix_common_time_family_answer_year"), "common_time_family_answer", ["year"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_common_time_family_answer_year"), table_name="common_time_family_answer")
    op.drop_table("common_time_family_answer")
    op.drop_table("common_time_family_link")
    op.drop_index(op.f("ix_common_time_feedback_year"), table_name="common_time_feedback")
    op.drop_table("common_time_feedback")
