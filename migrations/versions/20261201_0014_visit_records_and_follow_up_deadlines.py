"""visit records (探访记录) and follow-up deadlines

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visit_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", portal.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["elder_id"], ["people.id"], name=op.f("fk_visit_records_elder_id_people"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["people.id"],
                                name=op.f("fk_visit_records_recorded_by_id_people"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_visit_records_visit_id_visits"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_records")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_visit_records_visit_id")),
    )
    op.create_index(op.f("ix_visit_records_elder_id"), "visit_records", ["elder_id"], unique=False)
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(sa.Column("due_at", portal.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("due_at")
    op.drop_index(op.f("ix_visit_records_elder_id"), table_name="visit_records")
    op.drop_table("visit_records")
