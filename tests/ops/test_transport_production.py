"""Production refuses to start without a real SMS/voice provider, unless the console is chosen explicitly."""
from __future__ import annotations

import logging

import pytest

from portal import create_app
from portal.channels.transport import ConsoleTransport, TwilioTransport
from portal.production import ProductionConfigError

PG_URL = "postgresql+psycopg://linli@127.0.0.1:5432/linli"  # never connected: nothing here touches it
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "token", "TWILIO_FROM_NUMBER": "+8610690000000"}


def production(app_config, **overrides):
    config = dict(app_config, LINLI_ENV="production", LINLI_SECRET_KEY_FROM_ENV=True, LINLI_DATABASE_URL=PG_URL,
                  LINLI_PUBLIC_URL="https://linli.example.org", LINLI_DEV_TOOLS=False, LINLI_DEMO=False,
                  LINLI_TRANSPORT="", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="", TWILIO_FROM_NUMBER="",
                  LINLI_LEDGER_KEY="k" * 64, LINLI_WEB_WORKERS=1)
    config.update(overrides)
    return config


@pytest.mark.parametrize("partial", [{}, {"TWILIO_ACCOUNT_SID": TWILIO["TWILIO_ACCOUNT_SID"]},
                                     {"TWILIO_AUTH_TOKEN": "token", "TWILIO_FROM_NUMBER": "+8610690000000"}])
def test_production_without_twilio_refuses_to_start(app_config, partial):
    with pytest.raises(ProductionConfigError, match="LINLI_TRANSPORT=console"):
        create_app(production(app_config, **partial))


def test_production_from_the_environment_without_twilio_refuses_to_start(monkeypatch, tmp_path):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "LINLI_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LINLI_ENV", "production")
    monkeypatch.setenv("LINLI_SECRET_KEY", "production-test-" + "k" * 40)
    monkeypatch.setenv("LINLI_DATABASE_URL", PG_URL)
    monkeypatch.setenv("LINLI_PUBLIC_URL", "https://linli.example.org")
    monkeypatch.setenv("LINLI_LEDGER_KEY", "k" * 64)
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    with pytest.raises(ProductionConfigError, match="emergency alerts included"):
        create_app()
    monkeypatch.setenv("LINLI_TRANSPORT", "console")
    app = create_app()
    assert isinstance(app.extensions["linli"].transport, ConsoleTransport)
    app.extensions["linli"].engine.dispose()


def test_production_with_an_explicit_console_starts_with_a_loud_warning(app_config, caplog):
    with caplog.at_level(logging.WARNING):
        app = create_app(production(app_config, LINLI_TRANSPORT="console"))
    try:
        assert isinstance(app.extensions["linli"].transport, ConsoleTransport)
        loud = [r for r in caplog.records if r.levelno >= logging.CRITICAL and "LINLI_TRANSPORT=console" in r.getMessage()]
        assert loud and "emergency alerts" in loud[0].getMessage()
    finally:
        app.extensions["linli"].engine.dispose()


def test_production_with_twilio_starts_and_uses_it(app_config, caplog):
    with caplog.at_level(logging.WARNING):
        app = create_app(production(app_config, **TWILIO))
    try:
        assert isinstance(app.extensions["linli"].transport, TwilioTransport)
        assert not [r for r in caplog.records if "LINLI_TRANSPORT=console" in r.getMessage()]
    finally:
        app.extensions["linli"].engine.dispose()


def test_development_keeps_the_console_default(app_config):
    app = create_app(dict(app_config, LINLI_TRANSPORT="", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN=""))
    try:
        assert isinstance(app.extensions["linli"].transport, ConsoleTransport)
    finally:
        app.extensions["linli"].engine.dispose()


def test_production_refuses_to_send_from_inside_requests():
    from portal.production import production_problems

    problems = production_problems({"LINLI_ENV": "production", "LINLI_SENDER": "inline",
                                    "LINLI_TRANSPORT": "console"})
    assert any("LINLI_SENDER=inline" in problem for problem in problems)
    assert not any("LINLI_SENDER" in problem for problem in production_problems(
        {"LINLI_ENV": "production", "LINLI_SENDER": "process", "LINLI_TRANSPORT": "console"}))
