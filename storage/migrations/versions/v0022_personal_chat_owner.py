"""Personal chats: the conversation id beside its owner, indexed.

A personal chat belongs to one person. An activity that names another person's personal
chat as its conversation is refused; that needs the chat's owner found by its id.

Revision ID: 0022
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFS = sa.table(
    "conversation_ref",
    sa.column("aad_object_id", sa.String()),
    sa.column("reference", sa.Text()),
    sa.column("conversation_id", sa.String()),
)


def upgrade() -> None:
    op.add_column(
        "conversation_ref", sa.Column("conversation_id", sa.String(length=500), nullable=True)
    )
    op.create_index(
        op.f("ix_conversation_ref_conversation_id"), "conversation_ref", ["conversation_id"]
    )
    connection = op.get_bind()
    for aad, reference in connection.execute(sa.select(_REFS.c.aad_object_id, _REFS.c.reference)):
        try:
            conversation = (json.loads(reference).get("conversation") or {}).get("id")
        except (ValueError, AttributeError):
            continue
        if isinstance(conversation, str):
            connection.execute(
                _REFS.update()
                .where(_REFS.c.aad_object_id == aad)
                .values(conversation_id=conversation[:500])
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_ref_conversation_id"), table_name="conversation_ref")
    with op.batch_alter_table("conversation_ref") as batch:
        batch.drop_column("conversation_id")
