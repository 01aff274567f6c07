"""Merge the issue-16 branches of 2026-12-01: the worker list's indexes, the officer pages' hourly
community figures, the statement's indexes and the ledger's sum index (no schema change of its own).

Revision ID: 0025_merge_scale
Revises: 0021_worker_list_indexes, 0022_community_figures, 0023_person, 0024_ledger_sum_index
Create Date: 2026-12-01 17:00:00
"""
from __future__ import annotations

revision = "0025_merge_scale"
down_revision = ("0021_worker_list_indexes", "0022_community_figures", "0023_person", "0024_ledger_sum_index")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
