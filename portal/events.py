"""Domain signals, so that one part of the domain can react to another without importing it.

Senders pass the changed object as the sender and `session=` and `now=` as keywords. Receivers
only add to the session; the caller commits. Receivers are connected explicitly at start-up
(`create_app` calls each part's `connect_receivers()`), never as a side effect of an import.
A signal exists only while something listens to it.

    from portal import events
    events.visit_verified.connect(on_visit_verified)      # def on_visit_verified(visit, session, now): ...
    events.visit_verified.send(visit, session=session, now=now)
"""
from blinker import Namespace

_signals = Namespace()

visit_verified = _signals.signal("visit-verified")            # sender: Visit
elder_moved = _signals.signal("elder-moved")                  # sender: ElderProfile; old_community_id=
volunteer_deactivated = _signals.signal("volunteer-deactivated")  # sender: VolunteerProfile; actor_id=
