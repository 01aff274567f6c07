"""pending questions: the last question Linli asked each person, so a bare digit answers that one

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_questions",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), server_default="sms", nullable=False),
        sa.Column("asked_at", portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", portal.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_pending_questions_person_id_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_pending_questions")),
    )


def downgrade() -> None:
    op.drop_table("pending_questions")
