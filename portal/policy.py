"""Rules that are configuration, not code. Defaults here; LINLI_POLICY_FILE (TOML) overrides."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

DEFAULT_POLICY: dict = {
    "services": {
        # credit weight per service type (minutes of credit per minute served)
        "meal": {"weight": 1.0},
        "cleaning": {"weight": 1.0},
        "escort": {"weight": 1.2},
        "bathing": {"weight": 1.5},
        "emergency": {"weight": 1.5},
        "visit": {"weight": 1.0},
    },
    "tiers": {
        "high_risk": {"cadence": "weekly", "after_event_hours": 24},
        "special_hardship": {"cadence": "monthly", "due_day": 20},
        "general": {"cadence": "quarterly"},
    },
    "tier_rules": {
        "high_risk_age_alone": 80,      # 80+ living alone → high risk
        "high_risk_ability_level": 3,   # severe loss of ability → high risk
    },
    "visits": {
        # caller_id: the elder called from her own registered phone while the volunteer was at the door
        "counting_methods": ["door_qr", "door_code", "sms", "worker", "caller_id"],
        "phone_visits_count": False,
        "max_minutes": 240,
        # a shorter visit (签到 then 签退 at once) is recorded and credited but is not the month's visit
        "min_minutes": 10,
    },
    "compliance": {
        "forecast_from": 0.5,          # the forecast shows from this share of the period onwards
        "stale_visit_days": 30,        # officers see special-hardship elders unvisited for longer
        "heartbeat_silent_minutes": 10,
        "undo_minutes": 10,            # a worker's excuse or reassignment can be undone this long
    },
    "escalation": {
        "monthly": [
            {"day": 10, "action": "remind_visitor"},
            {"day": 20, "action": "remind_visitor"},
            {"day": 20, "action": "tell_worker"},
            {"day": 25, "action": "reassign_and_tell_officer"},
        ],
    },
    "time_bank": {
        "daily_cap_minutes": 480,
        "yearly_cap_minutes": 60000,
        "redemption_age": 60,
        # no balance is kept above this (the Nanjing scheme: 1,500 hours); what would exceed it is not minted
        "storage_cap_minutes": 90000,
        "gift_to": ["relative", "donation_pool"],
    },
    "requests": {
        "unaccepted_alert_minutes": 120,
        "emergency_alert_minutes": 5,
        "expire_hours": 48,
        "family_refusal_window_minutes": 120,
        "undo_minutes": 10,
        # 助急 "按错了，取消" is offered for this long after the alarm
        "emergency_stand_down_minutes": 2,
        # a request for today must leave this much time for a volunteer to accept it and come
        "same_day_lead_minutes": 60,
        "expire_after_start_minutes": 120,  # an open request this long past its time is closed
        "conversation_minutes": 30,
        "web_draft_hours": 24,
    },
    "messages": {
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "max_attempts": 6,
        # A call that was busy or not answered is placed again after each of these pauses (so up to
        # three retries); after the last, a reminder is texted and an urgent call goes to the next
        # person on the elder's list.
        "call_retry_minutes": [5, 15, 30],
        # calls to elders are not placed in these hours (unless urgent); texts keep quiet_start/end
        "call_quiet_start": "20:00",
        "call_quiet_end": "08:30",
        # a registered elder who rings (and is rejected, free for her) is called back at most this often
        "callback_every_minutes": 10,
        # the worker's home turns red when texts or calls have been failing for longer than this
        "failing_banner_minutes": 5,
        # loop guard: the Nth identical text from one number within the window gets no auto-reply
        "loop_guard_count": 3,
        "loop_guard_minutes": 10,
        # a question texted or spoken to a person stays answerable by a bare digit this long
        "question_open_hours": 24,
    },
    "checkins": {
        # 每日问安: an unanswered call is tried once more after this pause; then people are told
        "retry_minutes": 30,
        # this many missed days in a row with nobody recording a visit: the street officer is told
        "officer_after_days": 7,
    },
    "login": {
        "code_ttl_seconds": 300,
        "max_attempts": 5,
        "resend_per_minute": 1,
        "resend_per_hour": 5,
    },
}


def _merge(base: dict, override: dict) -> dict:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def load_policy(path: str | None = None) -> dict:
    """The effective policy: defaults merged with the TOML file at `path`, if any."""
    policy = copy.deepcopy(DEFAULT_POLICY)
    if path:
        with Path(path).open("rb") as handle:
            _merge(policy, tomllib.load(handle))
    return policy


_current: dict = copy.deepcopy(DEFAULT_POLICY)


def policy() -> dict:
    """The policy in force for this process (set by create_app or a job runner)."""
    return _current


def set_policy(value: dict) -> None:
    global _current
    _current = value
