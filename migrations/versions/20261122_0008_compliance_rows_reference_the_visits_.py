"""compliance rows reference the visits they record

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-22 14:55:56.253601
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0008'
down_revision = '0004'
branch_labels = None
depends_on = None


LINKS = [  # (table, column)
    ("elder_visit_stats", "last_visit_id"),
    ("obligation_events", "visit_id"),
    ("visit_obligations", "satisfied_by_visit_id"),
    ("visit_obligations", "late_visit_id"),
]


def upgrade() -> None:
    # batch mode: SQLite cannot add a foreign key in place
    for table, column in LINKS:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(op.f(f"fk_{table}_{column}_visits"), "visits", [column], ["id"],
                                     ondelete="SET NULL")


def downgrade() -> None:
    for table, column in reversed(LINKS):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_{column}_visits"), type_="foreignkey")
