"""Messages to families: the coordinators' templates, the development mailbox, and outbox
recipients as long as an e-mail address.

Revision ID: 0009
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"  # the outbox it widens


def upgrade() -> None:
    op.create_table(
        "family_template",
        sa.Column("message", sa.String(length=20), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["mediator.id"],
            name=op.f("fk_family_template_updated_by_mediator"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("message", "lang", name=op.f("pk_family_template")),
    )
    op.create_table(
        "dev_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("to", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_mail")),
        sa.UniqueConstraint("key", name=op.f("uq_dev_mail_key")),
    )
    # An e-mail address may be up to 254 characters; the outbox named Entra ids only.
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "recipient", existing_type=sa.String(length=64), type_=sa.String(length=320)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "recipient", existing_type=sa.String(length=320), type_=sa.String(length=64)
        )
    op.drop_table("dev_mail")
    op.drop_table("family_template")
