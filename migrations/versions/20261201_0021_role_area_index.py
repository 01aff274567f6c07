"""role grants by role and area: a community's workers without reading every elder's grant

Revision ID: 0021_role_area_index
Revises: 0020_merge_perf_workday
Create Date: 2026-12-01 16:10:00
"""
from __future__ import annotations

from alembic import op

revision = "0021_role_area_index"
down_revision = "0020_merge_perf_workday"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_role_grants_role_area", "role_grants", ["role", "area_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_role_grants_role_area", table_name="role_grants")
