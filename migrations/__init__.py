"""Alembic migrations of the webcare database schema."""
