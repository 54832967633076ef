"""issue 5: indexes for the message log's keyset pages and the campaign dashboard

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_messages_state_id", "messages", ["state", "id"]),
    ("ix_messages_campaign_id", "messages", ["campaign", "id"]),
    ("ix_messages_to_id", "messages", ["to_address", "id"]),
    ("ix_messages_due_at_id", "messages", ["due_at", "id"]),
    ("ix_message_events_at", "message_events", ["at"]),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
