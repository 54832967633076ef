"""issue 11: claims and the reaper walk only live work (partial indexes)

The claim asks for the oldest due messages of one channel; ix_messages_due_<channel> holds
only that channel's planned and deferred rows, by (due_at, id), so a claim is a range walk
that stops after its batch, whatever the number of messages ever sent. The reaper asks for
expired leases; ix_messages_leased holds only the rows in flight. They replace the two full
indexes led by state, (state, due_at) and (state, lease_expires_at): with those the planner
walked ix_messages_due_at_id through every message ever sent, or sorted every due row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CHANNELS = ("sms", "email", "letter")
_LEASED = sa.text("state IN ('claimed', 'ready', 'sending')")


def _due_on(channel: str) -> sa.TextClause:
    return sa.text(f"state IN ('planned', 'deferred') AND channel = '{channel}'")


def upgrade() -> None:
    op.drop_index("ix_messages_due", table_name="messages")
    op.drop_index("ix_messages_lease", table_name="messages")
    for channel in _CHANNELS:
        op.create_index(
            f"ix_messages_due_{channel}",
            "messages",
            ["due_at", "id"],
            postgresql_where=_due_on(channel),
            sqlite_where=_due_on(channel),
        )
    op.create_index(
        "ix_messages_leased",
        "messages",
        ["lease_expires_at"],
        postgresql_where=_LEASED,
        sqlite_where=_LEASED,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_leased", table_name="messages")
    for channel in reversed(_CHANNELS):
        op.drop_index(f"ix_messages_due_{channel}", table_name="messages")
    op.create_index("ix_messages_lease", "messages", ["state", "lease_expires_at"])
    op.create_index("ix_messages_due", "messages", ["state", "due_at"])
