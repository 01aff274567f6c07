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


# Plain ADD/DROP COLUMN and a unique index, no batch copy: on SQLite a batch copy of `areas` (which
# other tables reference, with foreign keys enforced) fails as soon as the table holds rows.
def upgrade() -> None:
    op.add_column("areas", sa.Column("code", sa.String(12), nullable=True))
    op.add_column("areas", sa.Column("grids", sa.JSON(), nullable=True))
    op.add_column("areas", sa.Column("retired_at", UTCDateTime(), nullable=True))
    op.create_index("ix_areas_code", "areas", ["code"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_areas_code", table_name="areas")
    op.drop_column("areas", "retired_at")
    op.drop_column("areas", "grids")
    op.drop_column("areas", "code")
