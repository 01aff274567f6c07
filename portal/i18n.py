"""Translation helpers usable outside a request (jobs, channels)."""
from __future__ import annotations

from babel.support import LazyProxy
from flask_babel import force_locale, gettext, lazy_gettext, ngettext

_ = gettext
_l = lazy_gettext

SUPPORTED_LOCALES = ("zh_Hans", "en")


def supported_locale(locale: str | None) -> str:
    """The locale to speak to someone in: theirs when Linli has it, Chinese otherwise."""
    return locale if locale in SUPPORTED_LOCALES else "zh_Hans"


def translate_for(locale: str | None, message: str, **variables) -> str:
    """Translate `message` into a person's locale, e.g. for an SMS sent by a job."""
    with force_locale(supported_locale(locale)):
        return gettext(message, **variables)


def msg(text):
    """Mark a string for extraction without translating it now (for data tables)."""
    return text


__all__ = ["_", "_l", "gettext", "ngettext", "supported_locale", "translate_for", "msg", "LazyProxy", "force_locale"]
