"""a session version per person: bumped on logout, role change and phone change, it ends every session

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: on SQLite a batch would copy `people`, which rows of other tables point at
    op.add_column("people", sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("people", "session_version")
