"""Every string in the code must be in both catalogues, and translated into Chinese."""
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_string_is_in_both_catalogues(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "msg",
         "-k", "translate_for:2", "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as handle:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert len(extracted) > 100
    for locale in ("zh_Hans", "en"):
        with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        present = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        missing = sorted(extracted - present)
        assert missing == [], f"{locale} is missing {len(missing)} strings, e.g. {missing[:5]}"
        if locale == "zh_Hans":
            untranslated = sorted(
                (m.id if isinstance(m.id, str) else m.id[0]) for m in catalog
                if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))
            )
            assert untranslated == [], f"untranslated in zh_Hans: {untranslated[:5]}"


def test_catalogues_are_well_formed_and_hold_each_message_once():
    """Parallel branches add entries side by side (the catalogues merge by union): a merge that
    dropped a line or kept an entry twice is caught here, before a catalogue fails to compile."""
    import re

    entry = re.compile(r'^(?:msgctxt "((?:[^"\\]|\\.)*)"\n)?msgid "((?:[^"\\]|\\.)*)"\n', re.M)
    for locale in ("zh_Hans", "en"):
        path = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            read_po(handle, abort_invalid=True)
        text = path.read_text(encoding="utf-8")
        seen: dict[tuple, int] = {}
        for match in entry.finditer(text):
            if match.group(2):
                key = (match.group(1), match.group(2))
                seen[key] = seen.get(key, 0) + 1
        twice = sorted(key for key, count in seen.items() if count > 1)
        assert twice == [], f"{locale} holds these messages more than once: {twice[:5]}"
