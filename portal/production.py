"""The start-up check for LINLI_ENV=production: refuse to run with settings that are only safe for a demo."""
from __future__ import annotations


class ProductionConfigError(RuntimeError):
    pass


def production_problems(config: dict) -> list[str]:
    """What is wrong with `config` for production (empty when it is fine or not production)."""
    if config.get("LINLI_ENV") != "production":
        return []
    problems = []
    if not config.get("LINLI_SECRET_KEY_FROM_ENV"):
        problems.append("LINLI_SECRET_KEY is not set (a key generated into the instance folder is not "
                        "shared by several servers and is lost with the folder)")
    if str(config.get("LINLI_DATABASE_URL", "")).startswith("sqlite"):
        problems.append("LINLI_DATABASE_URL points at SQLite; production runs on PostgreSQL "
                        "(several web workers and the scheduler write at once)")
    if not str(config.get("LINLI_PUBLIC_URL", "")).startswith("https://"):
        problems.append("LINLI_PUBLIC_URL must be the public https:// address (Twilio signatures are "
                        "checked against it, and cookies are secure-only)")
    if config.get("LINLI_DEV_TOOLS"):
        problems.append("LINLI_DEV_TOOLS is on; it prints login codes and opens /dev/outbox")
    if len(str(config.get("LINLI_LEDGER_KEY") or "")) < 32:
        problems.append("LINLI_LEDGER_KEY is not set (at least 32 characters, kept outside the database); "
                        "without it the ledger's hash chain proves nothing to someone who can write the database")
    if int(config.get("LINLI_WEB_WORKERS") or 1) > 1 and not config.get("LINLI_REDIS_URL"):
        problems.append("LINLI_REDIS_URL is not set but several web workers run (WEB_CONCURRENCY); each "
                        "would keep its own rate limits, multiplying every limit by the number of workers")
    if config.get("LINLI_DEMO"):
        problems.append("LINLI_DEMO is on; it shows the demo password on the login page")
    if str(config.get("LINLI_SENDER") or "").strip().lower() == "inline":
        problems.append("LINLI_SENDER=inline sends from inside web requests and Twilio's webhooks (for tests "
                        "only); production sends from `linli scheduler` or `linli sender`")
    if _no_real_transport(config):
        problems.append("no SMS/voice provider: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are "
                        "not all set, so every text and call, emergency alerts included, would only be written "
                        "to the log; configure Twilio, or set LINLI_TRANSPORT=console to run without one on purpose")
    return problems


def _no_real_transport(config: dict) -> bool:
    from portal.channels.transport import transport_name, twilio_configured

    chosen = config.get("LINLI_TRANSPORT")
    if chosen and not isinstance(chosen, str):
        return False  # a transport object handed to create_app (tests, an embedding program) is a choice
    return transport_name(config) != "console" and not twilio_configured(config)


def production_warnings(config: dict, transport) -> list[str]:
    """What production allows but must say loudly at start: texts that never leave the server."""
    if config.get("LINLI_ENV") != "production" or getattr(transport, "name", "") != "console":
        return []
    return ["LINLI_TRANSPORT=console in production: NO text or call leaves this server, emergency alerts "
            "included; they are only written to the log. Configure Twilio to reach people."]


def check_production_config(config: dict) -> None:
    problems = production_problems(config)
    if problems:
        raise ProductionConfigError("Linli refuses to start in production: " + "; ".join(problems))
