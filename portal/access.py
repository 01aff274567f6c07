"""Deny by default: every endpoint states who may use it, or nobody can."""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

PUBLIC = "public"
ANY_SIGNED_IN = "signed_in"
PUBLIC_ENDPOINTS = {"static"}


def allow(*roles: str):
    """Allow these roles (or PUBLIC / ANY_SIGNED_IN) to use the view."""

    def decorate(view):
        view.linli_access = frozenset(roles)
        return view

    return decorate


public = allow(PUBLIC)
signed_in = allow(ANY_SIGNED_IN)


def access_for(app, endpoint: str | None) -> frozenset[str] | None:
    if endpoint is None:
        return None
    if endpoint in PUBLIC_ENDPOINTS:
        return frozenset({PUBLIC})
    view = app.view_functions.get(endpoint)
    return getattr(view, "linli_access", None)


def enforce(app):
    """before_request: apply the endpoint's rule; an endpoint without one is refused."""
    if request.endpoint is None:
        return None  # 404 / 405 follow
    rule = access_for(app, request.endpoint)
    if rule is None:
        app.logger.error("endpoint %s has no access rule; refused", request.endpoint)
        abort(403)
    if PUBLIC in rule:
        return None
    if not current_user.is_authenticated:
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if request.headers.get("HX-Request") == "true":
            response = app.response_class(status=200)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)
    if ANY_SIGNED_IN in rule:
        return None
    if not current_user.has_role(*rule):
        abort(403)
    return None
