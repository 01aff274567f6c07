"""Scheduled jobs (APScheduler). They call into portal.services."""
