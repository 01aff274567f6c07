"""link visits to the requests they serve

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-22 14:50:26.914249
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.types

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a foreign key in place
    with op.batch_alter_table("visits") as batch:
        batch.create_foreign_key(op.f("fk_visits_request_id_service_requests"), "service_requests",
                                 ["request_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_constraint(op.f("fk_visits_request_id_service_requests"), type_="foreignkey")
