"""Storage failures by what they mean to the caller, so code above storage never names SQLAlchemy's exceptions."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

Conflict = IntegrityError  # a concurrent writer took a unique key first: the transaction rolled back whole
UNREACHABLE: tuple[type[BaseException], ...] = (OperationalError, PoolTimeout, OSError, TimeoutError)
"""The database did not answer (down, locked past the busy timeout, pool exhausted): try again later."""
DRIVER_ERRORS: tuple[type[BaseException], ...] = (DBAPIError, PoolTimeout)
"""Anything the database driver or the connection pool raised."""


def unreachable(exc: BaseException) -> bool:
    """Whether the database did not answer: one of UNREACHABLE, or a connection cut in the middle of a statement
    (the driver words that as a generic error; SQLAlchemy recognises it and invalidates the connection)."""
    return isinstance(exc, UNREACHABLE) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
