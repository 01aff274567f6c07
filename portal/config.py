"""Configuration read from the environment (LINLI_*), with safe defaults for the demo."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from portal.clock import DEFAULT_TIMEZONE
from portal.resources import asset_dir


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """Use LINLI_SECRET_KEY; otherwise keep a random key in the instance folder.

    A fixed default key would let anyone forge sessions, so there is none.
    """
    configured = os.environ.get("LINLI_SECRET_KEY")
    if configured:
        return configured
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(instance_path: Path) -> dict:
    """Build the Flask config mapping from environment variables."""
    database_url = os.environ.get("LINLI_DATABASE_URL") or (
        f"sqlite:///{instance_path / 'linli.sqlite3'}"
    )
    production = os.environ.get("LINLI_ENV", "development") == "production"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        # The production check refuses a key that was generated into the instance folder.
        "LINLI_SECRET_KEY_FROM_ENV": bool(os.environ.get("LINLI_SECRET_KEY")),
        "LINLI_DATABASE_URL": database_url,
        "LINLI_ENV": "production" if production else "development",
        "LINLI_DEV_TOOLS": _bool("LINLI_DEV_TOOLS", False),
        "LINLI_DEMO": _bool("LINLI_DEMO", False),
        "LINLI_PUBLIC_URL": os.environ.get("LINLI_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "LINLI_REDIS_URL": os.environ.get("LINLI_REDIS_URL", ""),
        "LINLI_LEDGER_KEY": os.environ.get("LINLI_LEDGER_KEY", ""),
        # gunicorn.conf.py's default, so that the start-up check sees what gunicorn will run
        "LINLI_WEB_WORKERS": int(os.environ.get("WEB_CONCURRENCY") or (os.cpu_count() or 1) * 2 + 1),
        "LINLI_TIMEZONE": os.environ.get("LINLI_TIMEZONE") or DEFAULT_TIMEZONE,
        "LINLI_DEFAULT_REGION": os.environ.get("LINLI_DEFAULT_REGION", "CN"),
        # Keys the hash of identity numbers (duplicate detection); empty: the secret key. Never change
        # it once numbers are stored: every stored hash would stop matching.
        "LINLI_ID_NUMBER_KEY": os.environ.get("LINLI_ID_NUMBER_KEY", ""),
        "LINLI_HOTLINE": os.environ.get("LINLI_HOTLINE", "12349"),
        "LINLI_POLICY_FILE": os.environ.get("LINLI_POLICY_FILE", ""),
        "LINLI_PROXY_HOPS": int(os.environ.get("LINLI_PROXY_HOPS", "0")),
        "LINLI_METRICS_TOKEN": os.environ.get("LINLI_METRICS_TOKEN", ""),
        "LINLI_LOG_FORMAT": os.environ.get("LINLI_LOG_FORMAT", "json" if production else "text"),
        "LINLI_LOG_LEVEL": os.environ.get("LINLI_LOG_LEVEL", "INFO"),
        # "twilio", "console", or empty: Twilio when its settings are present, else the console.
        # Production refuses the console unless it is named here explicitly.
        "LINLI_TRANSPORT": os.environ.get("LINLI_TRANSPORT", "").strip().lower(),
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_FROM_NUMBER": os.environ.get("TWILIO_FROM_NUMBER", ""),
        "TWILIO_API_BASE": os.environ.get("TWILIO_API_BASE", ""),
        # Who sends the outbox: "process" (`linli sender` / the scheduler, woken by NOTIFY or a
        # short poll), "thread" (a sender thread in this process: the demo), "inline" (right after
        # the commit, in the same thread: tests only). Empty: inline under TESTING, else process.
        "LINLI_SENDER": os.environ.get("LINLI_SENDER", "").strip().lower(),
        "LINLI_SENDER_POLL_SECONDS": float(os.environ.get("LINLI_SENDER_POLL_SECONDS", "0.5")),
        # The provider's pace, shared by every sender (Twilio: about 1 text a second per long code).
        "LINLI_PROVIDER_RATE_PER_SECOND": float(os.environ.get("LINLI_PROVIDER_RATE_PER_SECOND", "1")),
        "LINLI_PROVIDER_BURST": int(os.environ.get("LINLI_PROVIDER_BURST", "5")),
        # Text-to-speech voice and <Gather> speech language per locale (Twilio's voice table).
        "LINLI_TTS_VOICE_ZH_HANS": os.environ.get("LINLI_TTS_VOICE_ZH_HANS", "Polly.Zhiyu"),
        "LINLI_TTS_VOICE_EN": os.environ.get("LINLI_TTS_VOICE_EN", "Polly.Joanna"),
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("LINLI_TIMEZONE") or DEFAULT_TIMEZONE,
        "BABEL_TRANSLATION_DIRECTORIES": str(asset_dir("locales")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,  # a slow typist must not lose a form to an expired token
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }
