"""Linli (邻里): a neighbourhood elder-care portal."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, request
from flask_login import current_user
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.clock import set_local_timezone
from portal.config import load_config
from portal.db import make_engine, make_session_factory
from portal.extensions import babel, csrf, htmx, login_manager
from portal.policy import load_policy, set_policy
from portal.resources import asset_dir

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LinliState:
    """What the app shares across requests: the database, the message transport, rate limits."""

    engine: object
    session_factory: sessionmaker[Session]
    transport: object
    limiter: object
    # Called after a commit that queued texts or calls. It never sends from the committing request
    # (except LINLI_SENDER=inline, for tests): it wakes the sender (`portal.channels.sender`).
    after_commit: Callable[[list[int]], None]
    sender: object = None


def select_locale() -> str:
    from portal.i18n import SUPPORTED_LOCALES

    chosen = request.args.get("lang") or request.cookies.get("linli_lang")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    best = request.accept_languages.best_match(["zh", "zh-CN", "zh-Hans", "en"])
    return "en" if best == "en" else "zh_Hans"


def send_after_commit(app: Flask, ids: list[int]) -> None:
    """LINLI_SENDER=inline (tests): send what was queued right after the commit, in this thread."""
    from portal.channels import outbox

    state = app.extensions["linli"]
    with state.session_factory() as send_session:
        try:
            outbox.send_due(send_session, state.transport, ids=ids)
        except Exception:  # a failed immediate try loses nothing
            app.logger.exception("immediate send failed; the outbox sender will retry")


def _after_commit_for(app: Flask) -> Callable[[list[int]], None]:
    from portal.channels.sender import sender_mode

    mode = sender_mode(app.config)
    if mode == "inline":
        return lambda ids: send_after_commit(app, ids)
    if mode == "thread":
        def wake(_ids: list[int]) -> None:
            sender = app.extensions["linli"].sender
            if sender is not None:
                sender.wake()

        return wake
    # "process": PostgreSQL heard the NOTIFY written with the rows; on SQLite the sender polls.
    return lambda _ids: None


def create_app(test_config: dict | None = None) -> Flask:
    """Create the Linli application."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("LINLI_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
    )
    app.config.update(load_config(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    from portal.i18n import require_catalogue, set_catalogue_directory
    from portal.production import check_production_config

    check_production_config(app.config)
    # Without the compiled Chinese catalogue every page and text would silently be English.
    catalogues = str(app.config["BABEL_TRANSLATION_DIRECTORIES"]).split(";")[0]
    require_catalogue(catalogues)
    set_catalogue_directory(catalogues)
    if app.config["LINLI_PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["LINLI_PROXY_HOPS"],
                                x_proto=app.config["LINLI_PROXY_HOPS"], x_host=app.config["LINLI_PROXY_HOPS"])
    from portal.logs import configure_logging, init_request_logging

    configure_logging(app.config["LINLI_LOG_FORMAT"], app.config["LINLI_LOG_LEVEL"])

    the_policy = load_policy(app.config.get("LINLI_POLICY_FILE") or None)
    set_policy(the_policy)
    set_local_timezone(app.config["LINLI_TIMEZONE"])
    from portal.services.ledger import set_ledger_key

    set_ledger_key(app.config.get("LINLI_LEDGER_KEY"))

    from portal.channels.twiml import configure_voices

    configure_voices(app.config)

    from portal.channels.transport import make_transport
    from portal.production import production_warnings
    from portal.ratelimit import make_limiter

    chosen = app.config.get("LINLI_TRANSPORT")  # a name from the environment, or an object (tests)
    transport = chosen if chosen and not isinstance(chosen, str) else make_transport(app.config)
    for warning in production_warnings(app.config, transport):
        app.logger.critical(warning)
    engine = make_engine(app.config["LINLI_DATABASE_URL"])
    app.extensions["linli"] = LinliState(
        engine=engine,
        session_factory=make_session_factory(engine),
        transport=transport,
        limiter=make_limiter(app.config.get("LINLI_REDIS_URL")),
        after_commit=_after_commit_for(app),
    )

    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["LINLI_TIMEZONE"])
    from portal.i18n import install_page_gettext

    install_page_gettext(app.jinja_env)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flask-Login's own "strong" protection reads the client-supplied X-Forwarded-For; the binding
    # below uses the address after ProxyFix (the trusted hops only) and the session version.
    login_manager.session_protection = None

    @login_manager.user_loader
    def load_person(person_id: str):
        from portal.request_scope import db
        from portal.web.auth import signed_in_person

        if not person_id.isdigit():
            return None
        return signed_in_person(db(), int(person_id))

    from portal import access
    from portal.metrics import init_request_metrics

    init_request_logging(app)
    init_request_metrics(app)

    from portal.web import IdConverter, refuse_nul

    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)

    @app.before_request
    def _enforce_access():
        return access.enforce(app)

    from portal.web.idempotency import init_idempotency

    init_idempotency(app)

    from portal import request_scope
    from portal.db_outage import init_db_outage

    app.teardown_appcontext(request_scope.close)
    init_db_outage(app)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["LINLI_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.vary.add("HX-Request")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    from flask import render_template
    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        from portal.i18n import _

        reason = _("This form could not be checked. Please go back, reload the page and send it again.")
        return render_template("errors/400.html", reason=reason), 400

    for code in (400, 403, 404, 500):
        app.register_error_handler(code, lambda error, code=code: (render_template(f"errors/{code}.html"), code))

    from portal.web.templating import register_template_helpers

    register_template_helpers(app)

    @app.template_global()
    def stopped_phones(phones) -> set[str]:
        """Phones that sent STOP, e.g. an elder's emergency contacts shown to her worker."""
        from portal.request_scope import db
        from portal.services.outbox import stopped_among

        return stopped_among(db(), phones)

    from portal import metrics
    from portal.channels import callback, checkin_calls, sms_webhook, visit_record_voice, visits_voice, voice
    from portal.web import (
        auth,
        checkins,
        completion,
        elder,
        family,
        main,
        officer,
        officer_visits,
        timebank,
        visits,
        visits_worker,
        volunteer,
        volunteer_requests,
        worker,
        worker_requests,
    )
    from portal.web import requests as request_pages

    for module in (auth, main, elder, family, volunteer, worker, officer, metrics, sms_webhook,
                   request_pages, volunteer_requests, worker_requests, voice, visits_voice, visits, timebank, visits_worker,
                   completion, officer_visits, callback, checkin_calls, checkins, visit_record_voice):
        app.register_blueprint(module.bp)
    from portal.web import admin, people_import, staff_password  # district set-up: areas, staff, sheets

    for module in (admin, staff_password, people_import):
        app.register_blueprint(module.bp)
    if app.config["LINLI_DEV_TOOLS"]:
        from portal.web import dev, phone

        if not app.config.get("TWILIO_AUTH_TOKEN") and not app.config.get("LINLI_WEBHOOK_TOKEN"):
            # the phone simulator signs its webhooks with this; never accepted in production
            import secrets

            app.config["LINLI_WEBHOOK_TOKEN"] = secrets.token_urlsafe(24)
        app.register_blueprint(dev.bp)
        app.register_blueprint(phone.bp)

    from portal.channels.inbound import load_handlers
    from portal.services.compliance import connect_receivers

    load_handlers()
    connect_receivers()

    from portal.cli import register_commands

    register_commands(app)
    return app
