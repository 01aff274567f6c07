"""Domain signals, so that one part of the domain can react to another without importing it.

Senders pass the changed object as the sender and `session=` and `now=` as keywords. Receivers
only add to the session; the caller commits. Connect receivers at import time of their module
(modules are imported by `portal.models` / `portal.channels.inbound.load_handlers`).

    from portal import events
    events.visit_verified.connect(on_visit_verified)      # def on_visit_verified(visit, session, now): ...
    events.visit_verified.send(visit, session=session, now=now)
"""
from blinker import Namespace

_signals = Namespace()

# Service requests (issue: requests on web, SMS and voice)
request_created = _signals.signal("request-created")
request_accepted = _signals.signal("request-accepted")
request_started = _signals.signal("request-started")
request_done = _signals.signal("request-done")
request_confirmed = _signals.signal("request-confirmed")
request_cancelled = _signals.signal("request-cancelled")

# Visits and the time bank
visit_checked_in = _signals.signal("visit-checked-in")
visit_checked_out = _signals.signal("visit-checked-out")
visit_verified = _signals.signal("visit-verified")

# People
elder_moved = _signals.signal("elder-moved")              # sender: ElderProfile; old_community_id=
volunteer_deactivated = _signals.signal("volunteer-deactivated")
