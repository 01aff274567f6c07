import pytest

from portal import create_app
from portal.production import ProductionConfigError

PG_URL = "postgresql+psycopg://linli@127.0.0.1:5432/linli"  # never connected: the check runs first


def production(app_config, **overrides):
    config = dict(app_config, LINLI_ENV="production", LINLI_SECRET_KEY_FROM_ENV=True,
                  LINLI_DATABASE_URL=PG_URL, LINLI_PUBLIC_URL="https://linli.example.org",
                  LINLI_LEDGER_KEY="k" * 64, LINLI_WEB_WORKERS=1)
    config.update(overrides)
    return config


@pytest.mark.parametrize("overrides, complaint", [
    ({"LINLI_SECRET_KEY_FROM_ENV": False}, "LINLI_SECRET_KEY"),
    ({"LINLI_DATABASE_URL": "sqlite:///instance/linli.sqlite3"}, "SQLite"),
    ({"LINLI_PUBLIC_URL": "http://linli.example.org"}, "https://"),
    ({"LINLI_DEV_TOOLS": True}, "LINLI_DEV_TOOLS"),
    ({"LINLI_LEDGER_KEY": ""}, "LINLI_LEDGER_KEY"),
])
def test_production_refuses_unsafe_settings(app_config, overrides, complaint):
    with pytest.raises(ProductionConfigError, match=complaint):
        create_app(production(app_config, **overrides))


def test_production_starts_with_safe_settings_and_sends_hsts(app_config):
    app = create_app(production(app_config))
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    app.extensions["linli"].engine.dispose()


def test_development_is_not_checked(app_config):
    # every setting production refuses (see the table above), at once, outside production
    config = dict(app_config, LINLI_ENV="development", LINLI_SECRET_KEY_FROM_ENV=False,
                  LINLI_DATABASE_URL="sqlite:///instance/linli.sqlite3", LINLI_PUBLIC_URL="http://linli.example.org",
                  LINLI_DEV_TOOLS=True)
    app = create_app(config)
    try:
        assert app.config["LINLI_ENV"] == "development" and app.config["LINLI_DEV_TOOLS"] is True
        assert "dev.outbox" in {rule.endpoint for rule in app.url_map.iter_rules()}
    finally:
        app.extensions["linli"].engine.dispose()


def test_secret_key_from_the_environment_is_recognised(monkeypatch, tmp_path):
    from portal.config import load_config

    monkeypatch.setenv("LINLI_SECRET_KEY", "from-env-" + "x" * 40)
    assert load_config(tmp_path)["LINLI_SECRET_KEY_FROM_ENV"] is True
    monkeypatch.delenv("LINLI_SECRET_KEY")
    assert load_config(tmp_path)["LINLI_SECRET_KEY_FROM_ENV"] is False


def test_wsgi_entry_builds_the_app(monkeypatch, tmp_path, database_url):
    import importlib
    import sys

    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LINLI_DATABASE_URL", database_url)
    sys.modules.pop("portal.wsgi", None)
    wsgi = importlib.import_module("portal.wsgi")
    assert wsgi.app.test_client().get("/healthz").status_code == 200
    wsgi.app.extensions["linli"].engine.dispose()
