"""issue 13: one inbound message per provider signature

Twilio signs the URL and the form's keys and values concatenated without separators, so a
captured request can be re-cut under a new MessageSid and keep its signature. The signature
is kept with the message, unique, so such a replay is refused instead of acted on.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_inbound_messages_signature", ["signature"])


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_inbound_messages_signature", type_="unique")
        batch_op.drop_column("signature")
