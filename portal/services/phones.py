"""Phone numbers: one E.164 form for every way people type them."""
from __future__ import annotations

import re
import unicodedata

import phonenumbers

from portal.i18n import _l
from portal.services import DomainError


class InvalidPhone(DomainError):
    pass


def normalize_phone(raw: str | None, region: str = "CN") -> str:
    """Return the E.164 form of `raw`, or raise InvalidPhone with a translated message."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise InvalidPhone(_l("Please enter a phone number."), field="phone")
    if len(text) > 32:
        raise InvalidPhone(_l("That phone number is too long."), field="phone")
    digits = re.sub(r"[\s\-().]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    # "8613800000001": the country code typed without "+".
    if region == "CN" and re.fullmatch(r"86\d{11}", digits):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_l("That is not a phone number we recognise."), field="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_l("That is not a phone number we recognise."), field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str | None) -> str:
    """138****0001 — what lists and exports show."""
    if not e164:
        return ""
    national = e164[3:] if e164.startswith("+86") else e164.lstrip("+")
    if len(national) < 7:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"


def display_phone(e164: str | None) -> str:
    """The full national form, for the person themselves and for a worker's detail page."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
