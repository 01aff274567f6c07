"""People, their role grants and login codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship
from sqlalchemy.orm.util import identity_key

from portal.db import Base, utcnow
from portal.types import UTCDateTime

ROLES = ("elder", "family", "volunteer", "worker", "officer", "admin")
STAFF_ROLES = frozenset({"worker", "officer", "admin"})
CHANNELS = ("web", "sms", "voice")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10), default="zh_Hans", server_default="zh_Hans")
    preferred_channel: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # 身份证号: never stored. A keyed hash finds duplicates; the last 4 characters are what pages show.
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    id_number_last4: Mapped[str | None] = mapped_column(String(4))
    # Every session carries the version it was opened with; bumping it (logout, role or phone
    # change) ends all of them at once, cookies copied elsewhere included.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded when asked for (one person's grants: a staff page, a scope check). Not with every
    # Person a query returns: the signed-in person's grants ride in the session (web.auth), and the
    # people on a page (elders of requests, visitors) rarely need theirs.
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="select"
    )

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def end_sessions(self) -> None:
        self.session_version = (self.session_version or 0) + 1

    def roles(self) -> set[str]:
        return {grant.role for grant in self.grants}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles))

    def is_staff(self) -> bool:
        return bool(self.roles() & STAFF_ROLES)

    def __repr__(self) -> str:
        return f"<Person {self.id}>"


class RoleGrant(Base):
    __tablename__ = "role_grants"
    # (role, area): a community's workers are read from a handful of staff grants, not from the
    # one elder grant per elder that share the area index with them
    __table_args__ = (UniqueConstraint("person_id", "role", "area_id"),
                      Index("ix_role_grants_role_area", "role", "area_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="grants")


class LoginCode(Base):
    """A one-time login code. Only its hash is kept."""

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# A role granted or taken away ends the person's sessions (the signed session carries the grants it
# was opened with, checked only against this version), whichever code path changed the grant. One
# UPDATE a flush for every person concerned (an import grants thousands), none for people created
# in that same flush (they have no session yet).
@event.listens_for(RoleGrant, "after_insert")
@event.listens_for(RoleGrant, "after_delete")
def _grants_changed(_mapper, _connection, grant: RoleGrant) -> None:
    session = object_session(grant)
    if session is not None:
        session.info.setdefault("grants_changed_for", set()).add(grant.person_id)


@event.listens_for(Session, "after_flush")
def _bump_versions(session: Session, _flush_context) -> None:
    changed = session.info.pop("grants_changed_for", None)
    if not changed:
        return
    created = {obj.id for obj in session.new if isinstance(obj, Person)}
    bumped = changed - created
    if bumped:
        people = Person.__table__
        session.connection().execute(update(people).where(people.c.id.in_(sorted(bumped)))
                                     .values(session_version=people.c.session_version + 1))
        session.info.setdefault("versions_bumped_for", set()).update(bumped)


@event.listens_for(Session, "after_flush_postexec")
def _reload_bumped_versions(session: Session, _flush_context) -> None:
    for person_id in session.info.pop("versions_bumped_for", ()):
        person = session.identity_map.get(identity_key(Person, person_id))
        if person is not None:
            session.expire(person, ["session_version"])
