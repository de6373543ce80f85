"""Organisations: the network's members with their agreement periods and hours committed;
each employer named in the registry becomes one.

Revision ID: 0010
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    organisation = op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=True),
        sa.Column("agreement_start", sa.Date(), nullable=True),
        sa.Column("agreement_end", sa.Date(), nullable=True),
        sa.Column("yearly_hours", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("name_key", name=op.f("uq_organisation_name_key")),
    )
    # The registry's employers as they are written; the keys match them as the domain does
    # (mediation.organisations.organisation_key), in Python so both databases agree.
    employers = op.get_bind().execute(sa.text("SELECT DISTINCT employer FROM mediator"))
    rows: dict[str, str] = {}
    for (employer,) in employers:
        name = " ".join(str(employer).split())
        if name:
            rows.setdefault(name.casefold(), name)
    if rows:
        op.bulk_insert(organisation, [{"name": n, "name_key": k} for k, n in rows.items()])


def downgrade() -> None:
    op.drop_table("organisation")
