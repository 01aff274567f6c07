"""identity number hashes on people; import mappings and batches

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN and a unique index, no batch copy of `people` (see 0010)
    op.add_column("people", sa.Column("id_number_hash", sa.String(64), nullable=True))
    op.add_column("people", sa.Column("id_number_last4", sa.String(4), nullable=True))
    op.create_index("ix_people_id_number_hash", "people", ["id_number_hash"], unique=True)
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["areas.id"], name="fk_import_mappings_community_id_areas"),
        sa.PrimaryKeyConstraint("id", name="pk_import_mappings"),
        sa.UniqueConstraint("community_id", "kind", name="uq_import_mappings_community_id_kind"),
    )
    op.create_index("ix_import_mappings_community_id", "import_mappings", ["community_id"])
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name="fk_import_batches_created_by_id_people"),
        sa.ForeignKeyConstraint(["community_id"], ["areas.id"], name="fk_import_batches_community_id_areas"),
        sa.PrimaryKeyConstraint("id", name="pk_import_batches"),
    )
    op.create_index("ix_import_batches_created_by_id", "import_batches", ["created_by_id"])


def downgrade() -> None:
    op.drop_index("ix_import_batches_created_by_id", table_name="import_batches")
    op.drop_table("import_batches")
    op.drop_index("ix_import_mappings_community_id", table_name="import_mappings")
    op.drop_table("import_mappings")
    op.drop_index("ix_people_id_number_hash", table_name="people")
    op.drop_column("people", "id_number_last4")
    op.drop_column("people", "id_number_hash")
