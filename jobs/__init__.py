"""Scheduled jobs: APScheduler wiring and one module per job."""
