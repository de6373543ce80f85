"""The outbox: an index on a message's subject and status.

Each card update sent looks for the updates of the same card still waiting (the card it
showed covers them), and a case's first post is looked for by its subject too. Without
this index both read every pending message, so after a term's reminders or a burst of notes
to one busy chat every card update paid for the whole backlog.

Revision ID: 0019
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_subject_status", "outbox", ["subject", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_subject_status", table_name="outbox")
