"""Door codes (一人一码): a short numeric code and a signed token for the printed QR card."""
from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import ElderProfile


def new_door_code(session: Session, length: int = 6) -> str:
    """A random numeric code not used by any other elder."""
    for _ in range(50):
        code = "".join(secrets.choice("0123456789") for _ in range(length))
        if code[0] == "0":
            continue  # a leading zero is easily lost when read aloud or typed into a phone
        taken = session.scalar(select(ElderProfile.person_id).where(ElderProfile.door_code == code))
        if taken is None and code not in session.info.setdefault("door_codes_issued", set()):
            session.info["door_codes_issued"].add(code)
            return code
    raise RuntimeError("could not find a free door code")


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="linli-door-card")


def door_token(secret_key: str, profile: ElderProfile) -> str:
    """The token printed in the door card's QR code; reprinting the card (version+1) revokes it."""
    return _serializer(secret_key).dumps({"e": profile.person_id, "v": profile.door_token_version})


def read_door_token(secret_key: str, token: str) -> tuple[int, int] | None:
    """(elder id, version) from a door token, or None when it is forged or malformed."""
    try:
        data = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or not isinstance(data.get("v"), int):
        return None
    return data["e"], data["v"]
