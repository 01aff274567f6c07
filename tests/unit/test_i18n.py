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
