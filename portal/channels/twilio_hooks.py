"""Guarding Twilio webhooks: the signature against the exact public URL, CSRF exemption."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from portal.access import public
from portal.extensions import csrf


def public_url_for_request() -> str:
    """The URL Twilio signed: LINLI_PUBLIC_URL + path + query string, never the Host header."""
    query = request.query_string.decode()
    return f"{current_app.config['LINLI_PUBLIC_URL']}{request.path}{'?' + query if query else ''}"


def webhook_token(config) -> str | None:
    """The key webhooks are signed with: Twilio's auth token. Without one, the dev-only
    LINLI_WEBHOOK_TOKEN (the phone simulator's) counts only while dev tools are on outside
    production, so a production config without a Twilio token refuses every webhook."""
    if config.get("TWILIO_AUTH_TOKEN"):
        return config["TWILIO_AUTH_TOKEN"]
    if config.get("LINLI_DEV_TOOLS") and config.get("LINLI_ENV") != "production":
        return config.get("LINLI_WEBHOOK_TOKEN") or None
    return None


def signature_is_valid() -> bool:
    token = webhook_token(current_app.config)
    if not token:
        return False
    validator = RequestValidator(token)
    signature = request.headers.get("X-Twilio-Signature", "")
    return validator.validate(public_url_for_request(), request.form.to_dict(flat=True), signature)


def twilio_webhook(view):
    """Public (Twilio is not signed in), CSRF-exempt, and refused with 403 unless signed."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not signature_is_valid():
            current_app.logger.warning("twilio webhook with a bad signature refused: %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    guarded = public(guarded)
    guarded.linli_twilio_webhook = True  # the security tests find every webhook by this mark
    csrf.exempt(guarded)
    return guarded


def sign(url: str, params: dict, token: str) -> str:
    """The X-Twilio-Signature for `params` posted to `url` (for the phone simulator and tests)."""
    return RequestValidator(token).compute_signature(url, params)
