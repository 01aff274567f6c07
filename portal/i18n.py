"""Translation that works with or without Flask: pages, jobs in the scheduler's threads, channels.

Texts for one person (`translate_for`, and everything inside `force_locale`) are translated from
the compiled catalogues in locales/ through babel.support.Translations, cached per locale. They
need no app or request context, so a job running in one of APScheduler's worker threads speaks
Chinese to a zh_Hans person just like a request does. With nothing forced, `gettext`/`_l` keep
using flask_babel: a page's locale (select_locale in portal/__init__.py) inside a request.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import flask_babel
from babel.support import LazyProxy, NullTranslations, Translations
from flask import has_app_context
from flask.globals import _cv_app
from flask_babel.speaklater import LazyString

log = logging.getLogger("linli.i18n")

SUPPORTED_LOCALES = ("zh_Hans", "en")
DEFAULT_LOCALE = "zh_Hans"
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

_directory = LOCALES_DIR
_catalogues: dict[str, Translations] = {}
_catalogues_lock = threading.Lock()
# The locale forced for this thread/task; None means "the page's locale" inside a request,
# the default locale elsewhere. A ContextVar, so scheduler threads never see each other's.
_forced_locale: ContextVar[str | None] = ContextVar("linli_forced_locale", default=None)


class CatalogueMissing(RuntimeError):
    """The compiled catalogue of the default locale is not there: Linli would speak English to everyone."""


def supported_locale(locale: str | None) -> str:
    """The locale to speak to someone in: theirs when Linli has it, Chinese otherwise."""
    return locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE


def catalogue_path(locale: str, directory: Path | None = None) -> Path:
    return Path(directory or _directory) / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


def require_catalogue(directory: Path | str | None = None, locale: str = DEFAULT_LOCALE) -> None:
    """Refuse to go on without the default locale's compiled catalogue (and say how to make it)."""
    path = catalogue_path(locale, Path(directory) if directory else None)
    try:
        with path.open("rb") as handle:
            catalogue = Translations(fp=handle, domain=DOMAIN)
    except FileNotFoundError:
        raise CatalogueMissing(
            f"Linli refuses to start: the compiled {locale} catalogue {path} is missing, so every page and "
            f"text would be in English. Compile the catalogues with `python scripts/i18n.py compile` "
            f"(scripts/setup does this)."
        ) from None
    except Exception as exc:  # a truncated or corrupt .mo file
        raise CatalogueMissing(f"Linli refuses to start: the compiled {locale} catalogue {path} cannot be read "
                               f"({exc}). Compile it again with `python scripts/i18n.py compile`.") from exc
    if not catalogue._catalog:
        raise CatalogueMissing(f"Linli refuses to start: the compiled {locale} catalogue {path} is empty. "
                               f"Compile it again with `python scripts/i18n.py compile`.")


def set_catalogue_directory(directory: Path | str) -> None:
    """Translate from `directory` from now on (create_app passes BABEL_TRANSLATION_DIRECTORIES)."""
    global _directory
    with _catalogues_lock:
        _directory = Path(directory)
        _catalogues.clear()


def catalogue(locale: str | None) -> NullTranslations:
    """The compiled catalogue of `locale`, loaded once per process (message ids when it is missing)."""
    locale = supported_locale(locale)
    found = _catalogues.get(locale)
    if found is not None:
        return found
    with _catalogues_lock:
        found = _catalogues.get(locale)
        if found is None:
            path = catalogue_path(locale)
            try:
                with path.open("rb") as handle:
                    found = Translations(fp=handle, domain=DOMAIN)
            except FileNotFoundError:
                # Not cached: a catalogue compiled later is picked up. The app refuses to start
                # without the default one (require_catalogue), so this is English or a bare script.
                log.warning("no compiled catalogue at %s; %s texts fall back to the message ids", path, locale)
                return NullTranslations()
            _catalogues[locale] = found
    return found


def _format(text: str, variables: dict) -> str:
    return text % variables if variables else text


def current_locale() -> str:
    forced = _forced_locale.get()
    if forced is not None:
        return forced
    if has_app_context():
        return supported_locale(str(flask_babel.get_locale() or DEFAULT_LOCALE))
    return DEFAULT_LOCALE


def page_translations() -> NullTranslations:
    """flask_babel's translations for the page's locale, looked up once per request: flask_babel
    finds them anew for every text (tens of microseconds each, a hundred texts on a list page). The
    answer is kept beside the locale flask_babel chose, and used only while that locale is still the
    one in force (flask_babel.force_locale and refresh replace it)."""
    app_context = _cv_app.get(None)
    namespace = getattr(app_context.g, "_flask_babel", None) if app_context is not None else None
    locale = getattr(namespace, "babel_locale", None)
    if locale is not None:
        kept = getattr(namespace, "linli_translations", None)
        if kept is not None and kept[0] is locale:
            return kept[1]
    translations = flask_babel.get_translations()
    namespace = getattr(app_context.g, "_flask_babel", None) if app_context is not None else None
    locale = getattr(namespace, "babel_locale", None)
    if locale is not None:
        namespace.linli_translations = (locale, translations)
    return translations


def install_page_gettext(jinja_env) -> None:
    """Templates' _() and friends through page_translations (after flask_babel installed its own)."""
    jinja_env.install_gettext_callables(
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
    )


def gettext(string: str, **variables) -> str:
    forced = _forced_locale.get()
    if forced is None:
        return _format(page_translations().ugettext(string), variables)
    return _format(catalogue(forced).ugettext(string), variables)


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    forced = _forced_locale.get()
    if forced is None:
        return flask_babel.ngettext(singular, plural, num, **variables)
    variables.setdefault("num", num)
    return _format(catalogue(forced).ungettext(singular, plural, num), variables)


def lazy_gettext(string: str, **variables) -> LazyString:
    """Translated when used, in the locale in force then (a page's, a job's `force_locale`, …)."""
    return LazyString(gettext, string, **variables)


_ = gettext
_l = lazy_gettext


@contextmanager
def force_locale(locale: str | None) -> Iterator[None]:
    """Speak `locale` inside the block, in a request, in a job or in a bare thread alike."""
    token = _forced_locale.set(supported_locale(locale))
    try:
        if has_app_context():  # templates and flask_babel's date formats inside the block follow too
            with flask_babel.force_locale(supported_locale(locale)):
                yield
        else:
            yield
    finally:
        _forced_locale.reset(token)


def message_id(message) -> tuple[str, dict]:
    """A message id and its values, from a plain string or a lazy string (`_l(...)`, a DomainError's)."""
    if isinstance(message, (LazyString, LazyProxy)) and getattr(message, "_args", None):
        return message._args[0], dict(message._kwargs)
    return str(message), {}


def translate_for(locale: str | None, message, **variables) -> str:
    """Translate `message` (an id or a lazy string) into a person's locale, e.g. for an SMS sent by a job.

    Independent of Flask: it reads the compiled catalogue, so it gives the same text inside a
    request, in `linli jobs run` and in the scheduler's worker threads.
    """
    locale = supported_locale(locale)
    text, carried = message_id(message)
    values = {**carried, **variables}
    token = _forced_locale.set(locale)  # lazy values (a service's name) follow the same locale
    try:
        return _format(catalogue(locale).ugettext(text), values)
    finally:
        _forced_locale.reset(token)


def msg(text):
    """Mark a string for extraction without translating it now (for data tables)."""
    return text


__all__ = ["_", "_l", "gettext", "ngettext", "lazy_gettext", "supported_locale", "translate_for", "msg",
           "message_id", "force_locale", "require_catalogue", "CatalogueMissing", "SUPPORTED_LOCALES",
           "DEFAULT_LOCALE", "LazyProxy", "LazyString"]
