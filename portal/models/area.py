"""The area tree: district (区/县) → street (街道/乡镇) → community (社区/村)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base
from portal.types import UTCDateTime

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
    # 统计用区划代码 (12 digits; a district's ends in 000000, a street's in 000): a renamed area keeps
    # its row (and its history) because the import finds it by its code.
    code: Mapped[str | None] = mapped_column(String(12), unique=True, index=True)
    # 网格: the grids a community is divided into (names only; elders belong to the community).
    grids: Mapped[list[str] | None] = mapped_column(JSON)
    # A retired area takes no new people and is offered in no list; its history stays.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped[Area | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Area {self.id} {self.level} {self.name}>"
