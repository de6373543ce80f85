"""Walk-in shifts and phone hours: the rota's shifts, swaps between workers, and visits.

Revision ID: 0016
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp (SQLite keeps it as UTC text)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def refers(
    table: str, column: str, target: str, *, nullable: bool = False
) -> list[sa.Column[object] | sa.Constraint]:
    return [
        sa.Column(column, sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint(
            [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        moment("starts_at"),
        moment("ends_at"),
        *refers("shift", "worker_id", "mediator", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift")),
        sa.UniqueConstraint("kind", "starts_at", name=op.f("uq_shift_kind_starts_at")),
    )
    op.create_index(op.f("ix_shift_day"), "shift", ["day"])
    op.create_index(op.f("ix_shift_worker_id"), "shift", ["worker_id"])
    op.create_table(
        "shift_swap",
        sa.Column("id", sa.Integer(), nullable=False),
        *refers("shift_swap", "shift_id", "shift"),
        *refers("shift_swap", "from_id", "mediator"),
        *refers("shift_swap", "to_id", "mediator"),
        *refers("shift_swap", "return_shift_id", "shift", nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        moment("offered_at"),
        moment("answered_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_swap")),
    )
    op.create_index(op.f("ix_shift_swap_shift_id"), "shift_swap", ["shift_id"])
    op.create_index(op.f("ix_shift_swap_to_id"), "shift_swap", ["to_id"])
    op.create_table(
        "walk_in_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        *refers("walk_in_visit", "shift_id", "shift"),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("referral", sa.String(length=20), nullable=False),
        sa.Column("booked", sa.Boolean(), nullable=False),
        *refers("walk_in_visit", "recorded_by", "mediator"),
        moment("recorded_at"),
        sa.Column("form_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_in_visit")),
        sa.UniqueConstraint("form_id", name=op.f("uq_walk_in_visit_form_id")),
    )
    op.create_index(op.f("ix_walk_in_visit_shift_id"), "walk_in_visit", ["shift_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_walk_in_visit_shift_id"), table_name="walk_in_visit")
    op.drop_table("walk_in_visit")
    op.drop_index(op.f("ix_shift_swap_to_id"), table_name="shift_swap")
    op.drop_index(op.f("ix_shift_swap_shift_id"), table_name="shift_swap")
    op.drop_table("shift_swap")
    op.drop_index(op.f("ix_shift_worker_id"), table_name="shift")
    op.drop_index(op.f("ix_shift_day"), table_name="shift")
    op.drop_table("shift")
