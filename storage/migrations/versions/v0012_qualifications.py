"""Qualifications: what the registry records of people beyond being mediators.

Revision ID: 0012
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mediator_qualification",
        sa.Column("mediator_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["mediator_id"],
            ["mediator.id"],
            name=op.f("fk_mediator_qualification_mediator_id_mediator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mediator_id", "code", name=op.f("pk_mediator_qualification")),
    )


def downgrade() -> None:
    op.drop_table("mediator_qualification")
