"""indexes for district scale: elders by community and tier, obligations by community and window

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 15:40:00
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_elder_profiles_community_tier", "elder_profiles", ["community_id", "care_tier"]),
    ("ix_visit_obligations_community_window", "visit_obligations", ["community_id", "window_start"]),
    ("ix_visit_obligations_window_start_assignee", "visit_obligations", ["window_start", "assigned_to_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
