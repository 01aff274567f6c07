"""Door codes (一人一码): a short numeric code and a signed token for the printed QR card."""
from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import ElderProfile

DOOR_CODE_LENGTH = 8  # 9 × 10⁷ codes: at 130,000 elders a random guess hits someone 0.14 % of the time,
# and a code is only ever looked up among the elders within the volunteer's reach (a community).


def new_door_code(session: Session, length: int = DOOR_CODE_LENGTH) -> str:
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


def reissue_card(session: Session, profile: ElderProfile) -> None:
    """A new card: a new code and a new token version, so the lost or old card stops working."""
    profile.door_code = new_door_code(session)
    profile.door_token_version = (profile.door_token_version or 1) + 1
    session.flush()


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
