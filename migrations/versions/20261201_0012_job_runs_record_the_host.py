"""job runs record the host that ran them (two schedulers)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_runs", sa.Column("host", sa.String(120), nullable=True))


def downgrade() -> None:
    op.drop_column("job_runs", "host")
