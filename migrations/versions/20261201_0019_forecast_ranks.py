"""forecast ranks and stale counts: the officer overview's figures per community, kept by an hourly job

Revision ID: 0019_forecast_ranks
Revises: 0018
Create Date: 2026-12-01 12:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.types

revision = "0019_forecast_ranks"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_ranks",
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["areas.id"], name=op.f("fk_forecast_ranks_community_id_areas"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["elder_id"], ["people.id"], name=op.f("fk_forecast_ranks_elder_id_people"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["obligation_id"], ["visit_obligations.id"],
                                name=op.f("fk_forecast_ranks_obligation_id_visit_obligations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("period", "community_id", "rank", name=op.f("pk_forecast_ranks")),
    )
    op.create_index(op.f("ix_forecast_ranks_elder_id"), "forecast_ranks", ["elder_id"])
    op.create_index(op.f("ix_forecast_ranks_obligation_id"), "forecast_ranks", ["obligation_id"])
    op.create_table(
        "stale_counts",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("computed_at", portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["areas.id"], name=op.f("fk_stale_counts_community_id_areas"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_stale_counts")),
    )


def downgrade() -> None:
    op.drop_table("stale_counts")
    op.drop_index(op.f("ix_forecast_ranks_obligation_id"), table_name="forecast_ranks")
    op.drop_index(op.f("ix_forecast_ranks_elder_id"), table_name="forecast_ranks")
    op.drop_table("forecast_ranks")
