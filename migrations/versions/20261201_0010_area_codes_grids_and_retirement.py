"""area codes (统计用区划代码), grids and retirement

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("areas") as batch:
        batch.add_column(sa.Column("code", sa.String(12), nullable=True))
        batch.add_column(sa.Column("grids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("retired_at", UTCDateTime(), nullable=True))
        batch.create_unique_constraint("uq_areas_code", ["code"])


def downgrade() -> None:
    with op.batch_alter_table("areas") as batch:
        batch.drop_constraint("uq_areas_code", type_="unique")
        batch.drop_column("retired_at")
        batch.drop_column("grids")
        batch.drop_column("code")
