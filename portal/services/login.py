"""Phone login with one-time SMS codes, and staff passwords."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.i18n import _l, translate_for
from portal.models import LoginCode, Person
from portal.policy import policy
from portal.services import DomainError, outbox

# Fast enough for a login, far too slow for guessing a million codes inside five minutes.
_code_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Staff passwords: OWASP's first recommended Argon2id setting (m = 19 MiB, t = 2, p = 1). The
# library default (m = 64 MiB, p = 4) costs every web worker 64 MiB of peak memory at each login,
# which pushed a worker past 150 MB; 19 MiB with two passes is the equivalent OWASP strength.
# Hashes made with the old parameters still verify (the parameters are stored in each hash).
password_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class LoginRefused(DomainError):
    pass


def _rules() -> dict:
    return policy()["login"]


def request_code(session: Session, limiter, phone: str, ip: str, now: datetime) -> None:
    """Issue a code for `phone` and queue it by SMS: the text message is the only place the code goes.

    The caller shows the same page whether or not the number is registered; throttling is
    the same for both, so the answer reveals nothing.
    """
    rules = _rules()
    allowed = all(
        [
            limiter.hit(f"code:phone:{phone}", rules["resend_per_minute"], 60),
            limiter.hit(f"code:phone:{phone}", rules["resend_per_hour"], 3600),
            limiter.hit(f"code:ip:{ip}", rules["resend_per_minute"] * 10, 60),
            limiter.hit(f"code:ip:{ip}", rules["resend_per_hour"] * 10, 3600),
        ]
    )
    if not allowed:
        raise LoginRefused(_l("Please wait a minute before asking for another code."))
    person = session.scalar(select(Person).where(Person.phone == phone))
    if person is None or not person.active:
        _code_hasher.hash(f"{secrets.randbelow(1_000_000):06d}")  # the same work as for a registered number
        return
    session.execute(
        update(LoginCode).where(LoginCode.phone == phone, LoginCode.used_at.is_(None)).values(used_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        LoginCode(
            phone=phone,
            code_hash=_code_hasher.hash(code),
            created_at=now,
            expires_at=now + timedelta(seconds=rules["code_ttl_seconds"]),
        )
    )
    body = translate_for(
        person.locale, "Linli login code: %(code)s. It is valid for 5 minutes. Never tell anyone this code.",
        code=code,
    )
    outbox.enqueue(session, phone, body, kind="login_code", person=person, urgent=True, now=now)


def verify_code(session: Session, limiter, phone: str, code: str, now: datetime) -> Person:
    """The person for a correct, fresh code; LoginRefused otherwise.

    Every try is counted on the code row; the caller commits on success and on refusal alike.
    """
    rules = _rules()
    refused_tries = LoginRefused(_l("Too many wrong codes. Please ask for a new code."), field="code")
    if not limiter.hit(f"verify:phone:{phone}", rules["max_attempts"], rules["code_ttl_seconds"]):
        raise refused_tries
    code = (code or "").strip()
    login_code = session.scalar(
        select(LoginCode)
        .where(LoginCode.phone == phone, LoginCode.used_at.is_(None), LoginCode.expires_at > now)
        .order_by(LoginCode.id.desc())
    )
    wrong = LoginRefused(_l("That code is not right, or it has expired. Please check the text message."),
                         field="code")
    if login_code is None:
        raise wrong
    # One conditional UPDATE counts the try before the hash is checked: of concurrent guesses only
    # `max_attempts` ever get a check, whatever the number of workers.
    counted = session.execute(
        update(LoginCode).where(LoginCode.id == login_code.id, LoginCode.used_at.is_(None),
                                LoginCode.attempts < rules["max_attempts"])
        .values(attempts=LoginCode.attempts + 1).execution_options(synchronize_session=False)
    ).rowcount
    if not counted:
        raise refused_tries
    try:
        _code_hasher.verify(login_code.code_hash, code)
    except (VerificationError, InvalidHashError):
        raise wrong from None  # the caller commits: the failed try must count
    # And one more uses it: of concurrent submits of the right code exactly one wins.
    used = session.execute(
        update(LoginCode).where(LoginCode.id == login_code.id, LoginCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if not used:
        raise wrong
    person = session.scalar(select(Person).where(Person.phone == phone))
    if person is None or not person.active:
        raise wrong
    return person


def check_password(person: Person, password: str) -> bool:
    if not person.password_hash or not password:
        return False
    try:
        return password_hasher.verify(person.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(person: Person, password: str) -> None:
    if len(password) < 10:
        raise DomainError(_l("A password needs at least 10 characters."), field="password")
    person.password_hash = password_hasher.hash(password)
