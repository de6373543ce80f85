"""Alembic migrations of Sopu's database; run with storage.db.upgrade."""
