"""People's names as a list of them shows them: two volunteers called 陈帅 are told apart by the last
four digits of their phones, 陈帅（尾号 1234）. One helper for every volunteer picker, the printed visit
sheet and the key-in page."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from portal.i18n import _


def phone_tail(phone: str | None) -> str:
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-4:]


def told_apart(people: Iterable[tuple[int, str, str | None]]) -> dict[int, str]:
    """person id → name, with the phone's last four digits where the name is shared within `people`
    (each person counted once, in the order given)."""
    unique: dict[int, tuple[str, str | None]] = {}
    for person_id, name, phone in people:
        unique.setdefault(person_id, (name, phone))
    shared = Counter(name for name, _phone in unique.values())
    labels = {}
    for person_id, (name, phone) in unique.items():
        tail = phone_tail(phone)
        labels[person_id] = (_("%(name)s (phone ending %(tail)s)", name=name, tail=tail)
                             if shared[name] > 1 and tail else name)
    return labels


def person_choices(people: Iterable) -> list[tuple[int, str]]:
    """(id, label) choices for a picker of Person rows (or profiles with a `.person`), told apart."""
    persons = [getattr(p, "person", p) for p in people]
    return list(told_apart((p.id, p.name, p.phone) for p in persons).items())
