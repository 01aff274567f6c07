"""indexes for the worker's lists: role grants by (role, area), a community's workers without reading
every elder's grant; visit obligations by (community, window end), a community's month without its
history

Revision ID: 0021_worker_list_indexes
Revises: 0020_merge_perf_workday
Create Date: 2026-12-01 16:10:00
"""
from __future__ import annotations

from alembic import op

revision = "0021_worker_list_indexes"
down_revision = "0020_merge_perf_workday"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_role_grants_role_area", "role_grants", ["role", "area_id"], unique=False)
    op.create_index("ix_visit_obligations_community_window_end", "visit_obligations",
                    ["community_id", "window_end"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_visit_obligations_community_window_end", table_name="visit_obligations")
    op.drop_index("ix_role_grants_role_area", table_name="role_grants")
