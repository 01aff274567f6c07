"""merge the two revisions after 0018: forecast ranks (perf) and workday

Revision ID: 0020_merge_perf_workday
Revises: 0019_forecast_ranks, 0019_workday
Create Date: 2026-12-01 13:30:00
"""
from __future__ import annotations

revision = "0020_merge_perf_workday"
down_revision = ("0019_forecast_ranks", "0019_workday")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
