"""issue 4: look up contact points by address (inbound replies, unsubscribes, bounces)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Inbound SMS, carrier opt-outs and bounces look contact points up by value.
    op.create_index("ix_contact_points_kind_value", "contact_points", ["kind", "value"])


def downgrade() -> None:
    op.drop_index("ix_contact_points_kind_value", table_name="contact_points")
