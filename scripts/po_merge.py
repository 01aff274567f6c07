"""A git merge driver for the gettext catalogues: a 3-way merge entry by entry.

Parallel branches add entries side by side at the end of a catalogue; a text merge then conflicts,
and a union merge can drop a line. This merges by message instead: entries added on either side
are kept, a translation changed on one side only takes that change, an entry deleted on one side
and unchanged on the other goes. Enable it once per clone (`.gitattributes` names the driver):

    git config merge.po3.name "gettext 3-way by entry"
    git config merge.po3.driver ".venv/bin/python scripts/po_merge.py %O %A %B"
"""
from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po


def load(path: str):
    with open(path, "rb") as handle:
        return read_po(handle)


def entries(catalog) -> dict:
    return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)): m for m in catalog if m.id}


def merge(base_path: str, ours_path: str, theirs_path: str) -> None:
    """Merge `theirs` into `ours` (written in place, as git expects of a merge driver)."""
    base, ours, theirs = load(base_path), load(ours_path), load(theirs_path)
    in_base, in_ours, in_theirs = entries(base), entries(ours), entries(theirs)
    for key, their in in_theirs.items():
        our, before = in_ours.get(key), in_base.get(key)
        if our is None:
            if before is None:  # added on their side
                ours.add(their.id, their.string, locations=their.locations, flags=their.flags,
                         auto_comments=their.auto_comments, user_comments=their.user_comments,
                         context=their.context)
            continue  # deleted on our side
        if before is not None and their.string != before.string and our.string == before.string:
            our.string, our.flags = their.string, set(their.flags)  # changed on their side only
        elif before is None and not our.string and their.string:
            our.string = their.string
    for key, before in in_base.items():  # deleted on their side and unchanged on ours
        if key not in in_theirs and key in in_ours and in_ours[key].string == before.string:
            ours.delete(before.id, context=before.context)
    with open(ours_path, "wb") as handle:
        write_po(handle, ours, width=0, sort_output=False, include_previous=False)


if __name__ == "__main__":
    merge(*sys.argv[1:4])
