"""One conversation, three channels: flows defined once (flows.py), stepped by the engine
(engine.py) and rendered by the web (portal/web/requests.py), SMS (sms.py) and voice (voice.py)
adapters."""
