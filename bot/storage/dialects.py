"""INSERT statements with ON CONFLICT, which SQLite and PostgreSQL write the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite


def insert(dialect_name: str, model: type) -> Any:
    """An INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL speak the same clause)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(model.__table__)  # type: ignore[attr-defined]
