"""Hot statements on SQLite straight through the DBAPI cursor, with the SQL and value conversion SQLAlchemy gives.

SQLAlchemy's per-execute and per-row parameter handling costs more than SQLite's own work for the
ingest batch. Here a Core statement is compiled once, each value goes through its type's own bind and
result processors (a timestamp shared by many rows is converted once), and rows go to the cursor in one
call. On other databases the same statements run through SQLAlchemy.
"""

from __future__ import annotations

import functools
import operator
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.sqlite import pysqlite

from bot.storage.json_text import dumps

# Positional parameters: the driver binds a sequence by position, where named ones cost it a lookup each.
_DIALECT = pysqlite.dialect(paramstyle="qmark", json_serializer=dumps)


def _is_timestamp(type_: sa.types.TypeEngine[Any]) -> bool:
    return isinstance(type_, sa.DateTime) or isinstance(getattr(type_, "impl", None), sa.DateTime)


def _processor(type_: sa.types.TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """What SQLAlchemy itself applies to a value of this type on SQLite (a TypeDecorator's impl included)."""
    return type_.dialect_impl(_DIALECT).bind_processor(_DIALECT)


class sqlalchemy_errors:  # lower case: it reads as a function, `with sqlalchemy_errors(sql):`
    """Raise the driver's errors as SQLAlchemy's (IntegrityError, OperationalError…), as its own execute does.

    A class rather than a generator: it wraps every hot statement, and costs a third as much.
    """

    __slots__ = ("_sql",)

    def __init__(self, sql: str) -> None:
        self._sql = sql

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if isinstance(exc, sqlite3.Error):
            raise sa.exc.DBAPIError.instance(self._sql, None, exc, sqlite3.Error) from exc


class _Params:
    """Turns a mapping of the statement's named parameters into the driver's row: converted, constants added.

    A column left out of an INSERT gets its Python-side default (`default=0`, `default_factory=list`), as
    SQLAlchemy's own execute gives it: the compiled statement lists the column, its bind holds no value.
    (A default that reads SQLAlchemy's execution context is called without one.)
    """

    def __init__(self, compiled: sa.sql.compiler.Compiled, names: Iterable[str]) -> None:
        given = set(names)
        defaults = {column.key: column.default for column in getattr(compiled, "insert_prefetch", ())}
        self._per_row = {name: default.arg for name, default in defaults.items()
                         if name not in given and default is not None and default.is_callable}
        given |= set(self._per_row)
        positions: list[str] = list(compiled.positiontup or ())  # type: ignore[attr-defined]
        self._constants: dict[str, Any] = {}
        self._converters: list[tuple[int, Callable[[Any], Any]]] = []
        for position, name in enumerate(positions):
            bind = compiled.binds[name]  # type: ignore[attr-defined]
            process = _processor(bind.type)
            if name not in given:  # a constant of the statement itself (`generation + 1`) or a column's default
                default = defaults.get(name)
                value = default.arg if default is not None and default.is_scalar else bind.value
                self._constants[name] = process(value) if process is not None else value
            elif process is not None:
                # The rows of a batch share their timestamps: each is converted once.
                self._converters.append((position, functools.lru_cache(maxsize=16)(process)
                                         if _is_timestamp(bind.type) else process))
        pick = operator.itemgetter(*positions) if positions else (lambda _: ())
        self._pick: Callable[[Mapping[str, Any]], Any] = \
            (lambda row: (pick(row),)) if len(positions) == 1 else pick  # itemgetter of one gives no tuple

    def __call__(self, given: Mapping[str, Any]) -> list[Any]:
        if self._per_row:
            given = {**given, **{name: make(None) for name, make in self._per_row.items()}}
        row = list(self._pick({**given, **self._constants} if self._constants else given))
        for position, process in self._converters:
            row[position] = process(row[position])
        return row


class RawInsert:
    """An INSERT of the given columns (the statement's own constants included), for rows given as mappings."""

    def __init__(self, statement: sa.Insert, columns: Sequence[str]) -> None:
        compiled = statement.compile(dialect=_DIALECT, column_keys=list(columns))
        self.sql = compiled.string
        self._params = _Params(compiled, columns)

    def each(self, conn: sa.Connection, rows: Iterable[Mapping[str, Any]]) -> list[int | None]:
        """Insert row by row; the new row's id, or None where the statement inserted nothing (a conflict)."""
        cursor = conn.connection.cursor()
        try:
            ids: list[int | None] = []
            with sqlalchemy_errors(self.sql):
                for row in rows:
                    cursor.execute(self.sql, self._params(row))
                    ids.append(cursor.lastrowid if cursor.rowcount == 1 else None)
            return ids
        finally:
            cursor.close()

    def many(self, conn: sa.Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert every row in one call."""
        cursor = conn.connection.cursor()
        try:
            with sqlalchemy_errors(self.sql):
                cursor.executemany(self.sql, [self._params(row) for row in rows])
        finally:
            cursor.close()


class RawSelect:
    """A SELECT whose named parameters come from a mapping; rows come back as tuples of converted values."""

    def __init__(self, statement: sa.Select[Any], params: Sequence[str]) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("an expanding IN renders anew per call: bind a JSON list (json_each) instead")
        self.sql = compiled.string
        self._params = _Params(compiled, params)
        self._results = [column.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None)
                         for column in statement.selected_columns]

    def rows(self, conn: sa.Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row the statement selects."""
        cursor = conn.connection.cursor()
        try:
            with sqlalchemy_errors(self.sql):
                fetched = cursor.execute(self.sql, self._params(params)).fetchall()
        finally:
            cursor.close()
        if not any(self._results):
            return fetched
        return [tuple([value if process is None else process(value) for process, value in zip(
            self._results, row, strict=True)]) for row in fetched]


@functools.cache
def _raw_insert(statement: sa.Insert, columns: tuple[str, ...]) -> RawInsert:
    return RawInsert(statement, columns)


@functools.cache
def _raw_select(statement: sa.Select[Any], params: tuple[str, ...]) -> RawSelect:
    return RawSelect(statement, params)


def insert_rows(conn: sa.Connection, statement: sa.Insert, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys, in one call (`statement` must be a constant, built once)."""
    if conn.dialect.name == "sqlite":
        _raw_insert(statement, tuple(rows[0])).many(conn, rows)
    else:
        conn.execute(statement, rows)


def insert_each(conn: sa.Connection, statement: sa.Insert, rows: list[dict[str, Any]]) -> list[int | None]:
    """SQLite only: insert row by row; each new row's id, or None where nothing was inserted (a conflict)."""
    return _raw_insert(statement, tuple(rows[0])).each(conn, rows)


def select_rows(conn: sa.Connection, statement: sa.Select[Any], params: dict[str, Any] | None = None
                ) -> list[tuple[Any, ...]]:
    """The rows of a constant (built once) SELECT, as tuples."""
    if conn.dialect.name == "sqlite":
        return _raw_select(statement, tuple(params or ())).rows(conn, params or {})
    return [tuple(row) for row in conn.execute(statement, params)]


def listed(dialect_name: str, item_type: type[sa.types.TypeEngine[Any]]) -> Any:
    """The list bound as the one parameter `ids`, as rows of a column `value`.

    An expanding `IN (…)` is rendered anew for every list length; this keeps the statement text constant.
    """
    if dialect_name == "postgresql":
        ids = sa.bindparam("ids", type_=postgresql.ARRAY(item_type()))
        return sa.func.unnest(ids).table_valued("value").render_derived()
    return sa.func.json_each(sa.bindparam("ids", type_=sa.JSON)).table_valued("value")
