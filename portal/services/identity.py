"""Resident identity numbers (居民身份证号码, GB 11643-1999): checked by their check digit, never stored.

Only a keyed hash (to find the same number twice) and the last four characters (to show) are kept.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from portal.i18n import _l
from portal.services import DomainError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class InvalidIdNumber(DomainError):
    pass


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def normalize_id_number(raw: str | None) -> str:
    """The 18-character number in upper case, or InvalidIdNumber (format, birth date or check digit)."""
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", raw or "")).upper()
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise InvalidIdNumber(_l("An identity number has 18 characters: 17 digits and a digit or X."),
                              field="id_number")
    try:
        id_birth_date(text)
    except ValueError:
        raise InvalidIdNumber(_l("The date of birth inside this identity number is not a real date."),
                              field="id_number") from None
    if check_digit(text[:17]) != text[17]:
        raise InvalidIdNumber(_l("This identity number is not valid: its last character (check digit) "
                                 "does not match. Please check it against the card."), field="id_number")
    return text


def id_birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_gender(number: str) -> str:
    """'m' or 'f': the 17th digit is odd for men."""
    return "m" if int(number[16]) % 2 else "f"


def id_number_hash(number: str, key: str) -> str:
    """A keyed hash: equal numbers give equal hashes; without the key the number cannot be guessed back."""
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def masked_id_number(last4: str | None) -> str:
    return f"**************{last4}" if last4 else ""
