"""community figures: the officer pages' figures per community, counted by the hourly job

Revision ID: 0022_community_figures
Revises: 0020_merge_perf_workday
Create Date: 2026-12-01 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.types

revision = "0022_community_figures"
down_revision = "0020_merge_perf_workday"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community_figures",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("excused", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("high_risk", sa.Integer(), nullable=False),
        sa.Column("special_hardship", sa.Integer(), nullable=False),
        sa.Column("general", sa.Integer(), nullable=False),
        sa.Column("elders", sa.Integer(), nullable=False),
        sa.Column("computed_at", portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["areas.id"], name=op.f("fk_community_figures_community_id_areas"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_community_figures")),
    )


def downgrade() -> None:
    op.drop_table("community_figures")
