"""The area tree: district (区/县) → street (街道/乡镇) → community (社区/村)."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base

AREA_LEVELS = ("district", "street", "community")


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # Materialised path ("/1/4/9/"): a subtree is one indexed prefix match, at any size.
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    hotline: Mapped[str | None] = mapped_column(String(32))

    parent: Mapped[Area | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Area {self.id} {self.level} {self.name}>"
