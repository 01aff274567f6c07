"""The WSGI entry for gunicorn: `gunicorn -c gunicorn.conf.py portal.wsgi:app`."""
from portal import create_app

app = create_app()
