"""What a person sees while the database is briefly away (a restart, a failover, a dropped connection).

A page that only reads (GET, HEAD) is tried once more after a short pause on a fresh connection
(the engine pre-pings what it hands out and SQLAlchemy drops the pool's older connections after a
disconnect). A request that writes is never run twice: when it fails on the database it cannot be
known whether its commit landed, so it answers 503 with Retry-After and a translated page; the
forms' idempotency keys make sending it again act once. Never a 500 for an outage.
"""
from __future__ import annotations

import time

from flask import Flask, current_app, g, render_template, request
from sqlalchemy import exc as sa_exc

RETRY_AFTER_SECONDS = 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_outage(error: BaseException) -> bool:
    """A failure of the database connection rather than of the request: connection refused or
    dropped, the server starting up or shutting down, a session left unusable by such a failure."""
    if isinstance(error, sa_exc.PendingRollbackError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        return bool(error.connection_invalidated) or isinstance(
            error, (sa_exc.OperationalError, sa_exc.InterfaceError))
    return False


def _forget_request_state() -> None:
    """Drop the request's broken session and the signed-in person loaded through it."""
    session = g.pop("db", None)
    if session is not None:
        try:
            session.close()
        except Exception:  # the connection is already gone; closing only returns it
            current_app.logger.debug("closing a session after a database outage failed", exc_info=True)
    g.pop("_login_user", None)


def outage_response(app: Flask):
    from flask_login import AnonymousUserMixin

    _forget_request_state()
    # the page must not need the database: it is shown as to a visitor (no menu of roles)
    g._login_user = AnonymousUserMixin()
    try:
        body = render_template("errors/503.html")
    except Exception:
        app.logger.exception("rendering the 503 page failed")
        body = "Service unavailable / 服务暂时不可用"
    response = app.response_class(body, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_db_outage(app: Flask) -> None:
    """Wrap the app's request dispatch: a read is retried once, anything else answers 503."""
    dispatch = app.full_dispatch_request

    def full_dispatch_request():
        try:
            return dispatch()
        except Exception as error:  # noqa: BLE001 - only database outages are handled here
            if not is_outage(error):
                raise
            app.logger.warning("database unavailable during %s %s: %s", request.method, request.path,
                               type(error).__name__)
            if request.method not in SAFE_METHODS:
                return app.finalize_request(outage_response(app), from_error_handler=True)
        _forget_request_state()
        delay = float(app.config.get("LINLI_DB_RETRY_DELAY", 0.5))
        if delay:
            time.sleep(delay)
        try:
            return dispatch()
        except Exception as error:  # noqa: BLE001
            if not is_outage(error):
                raise
            app.logger.warning("database still unavailable on the retry of %s %s", request.method, request.path)
            return app.finalize_request(outage_response(app), from_error_handler=True)

    app.full_dispatch_request = full_dispatch_request
