"""Bulk imports of people from a community's sheets: the remembered column mapping, and uploads in progress."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow
from portal.types import UTCDateTime

IMPORT_KINDS = ("elders", "volunteers")


class ImportMapping(Base):
    """Which sheet column holds which field, remembered per community and kind of sheet."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("community_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    columns: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> header text
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ImportBatch(Base):
    """An uploaded sheet between upload and import. Its rows (which may hold identity numbers) are
    erased when the import is done; an unfinished upload is erased after a day."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    header: Mapped[list] = mapped_column(JSON, default=list)
    rows: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    status: Mapped[str] = mapped_column(String(16), default="uploaded")  # uploaded -> done
    report: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
