"""Set-based writes: rows go into a table in bulk (COPY on PostgreSQL, executemany on
SQLite), either straight into their own table or into a temporary staging table from which
one INSERT ... SELECT or UPDATE ... FROM moves them.

The ORM's bulk_create/bulk_update build one expression per value; at millions of events that
dominates everything else, so the hot paths use this instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson
from django.db import DatabaseError, connection, models
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader

Converter = Callable[[Any], Any]


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def unchanged(value: Any) -> Any:
    return value


def converters(fields: Sequence[models.Field]) -> list[Converter]:
    """Per-field functions turning Python values into what the staging load accepts."""
    sqlite = connection.vendor == "sqlite"
    out: list[Converter] = []
    for field in fields:
        if isinstance(field, models.JSONField):
            out.append(_json)
        elif isinstance(field, models.DateTimeField) and sqlite:
            adapt = connection.ops.adapt_datetimefield_value
            out.append(lambda v, adapt=adapt: None if v is None else adapt(v))
        elif isinstance(field, models.BooleanField) and sqlite:
            out.append(lambda v: None if v is None else int(v))
        else:
            out.append(unchanged)
    return out


class Staging:
    """A session-private temporary table with some columns of ``model``'s table."""

    def __init__(self, name: str, model: type[models.Model], columns: Sequence[str]) -> None:
        self.name = name
        self.model = model
        self.columns = list(columns)
        qn = connection.ops.quote_name
        self.q_name = qn(name)
        self.q_table = qn(model._meta.db_table)
        self.q_columns = ", ".join(qn(c) for c in self.columns)

    def load(self, cursor: Any, rows: Iterable[Sequence[Any]]) -> None:
        """(Re)fill the staging table with ``rows`` (tuples in column order)."""
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {self.q_name} AS "  # noqa: S608
            f"SELECT {self.q_columns} FROM {self.q_table} WHERE 1 = 0"
        )
        if connection.vendor == "postgresql":
            # Not DELETE: its dead rows stay in a temporary table (autovacuum never visits
            # those), so every later load and scan would read all the rows loaded before.
            cursor.execute(f"TRUNCATE {self.q_name}")
        else:
            cursor.execute(f"DELETE FROM {self.q_name}")  # noqa: S608
        _write(cursor, self.q_name, self.columns, rows, self.model._meta.db_table)


def insert(
    cursor: Any, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) straight into ``model``'s table.

    On PostgreSQL this is COPY, which routes each row to its partition; a failing row raises
    Django's database errors, as a statement through the ORM's cursor would.
    """
    table = model._meta.db_table
    _write(cursor, connection.ops.quote_name(table), columns, rows, table)


class _JsonTextBinaryDumper(Dumper):
    """JSON text (what ``converters`` make of a JSONField's value) as binary jsonb: a
    version byte, then the text. PostgreSQL parses and checks it as it would the text form."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()


# Column types by (database alias, table, column): a binary COPY says each column's type.
_TYPES: dict[tuple[str, str, str], int] = {}


def _column_types(cursor: Any, table: str, columns: Sequence[str]) -> list[int]:
    keys = [(connection.alias, table, c) for c in columns]
    if any(k not in _TYPES for k in keys):
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [connection.ops.quote_name(table)],
        )
        for name, oid in cursor.fetchall():
            _TYPES[connection.alias, table, name] = oid
    return [_TYPES[k] for k in keys]


def _write(
    cursor: Any,
    q_table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    types_of: str,
) -> None:
    """Write ``rows`` into ``q_table``, whose columns have the types of ``types_of``'s."""
    qn = connection.ops.quote_name
    q_columns = ", ".join(qn(c) for c in columns)
    if connection.vendor == "postgresql":
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        types = _column_types(raw, types_of, columns)
        # Binary: the server reads each value by its length instead of scanning every
        # byte of the text form for escapes and line ends, and nothing is escaped here.
        # A stored record's raw text is most of a row, so that was most of the parsing.
        if _JsonTextBinaryDumper.oid in types:
            raw.adapters.register_dumper(None, _JsonTextBinaryDumper)
        copy_sql = f"COPY {q_table} ({q_columns}) FROM STDIN (FORMAT BINARY)"
        try:
            with connection.wrap_database_errors, raw.copy(copy_sql) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
        except DatabaseError:
            # Perhaps a migration changed a column's type under this process: the types
            # are read again next time (a binary value of the old type would not load).
            for key in [k for k in _TYPES if k[:2] == (connection.alias, types_of)]:
                del _TYPES[key]
            raise
    else:
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {q_table} ({q_columns}) VALUES ({marks})",  # noqa: S608
            list(rows),
        )


def plain_rows(qs: Any, chunk: int = 0) -> Iterator[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset as psycopg returns them (PostgreSQL only).

    Django converts every value of every row in Python; for columns that need no conversion
    (text, numbers, timestamps; JSON comes as its text) this reads the queryset's own SQL
    through a plain cursor instead. Timestamps are loaded by psycopg's compiled loader, not
    the Python subclass Django registers to pin their time zone: about 0.9 µs a value
    against 4. Django's sessions run in UTC, so both give the same aware datetime.
    ``chunk`` reads through a server-side cursor (unless the settings disable those, as
    for a transaction pooler), that many rows at a time.
    """
    sql, params = qs.query.sql_with_params()
    server_side = chunk and not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    with connection.chunked_cursor() if server_side else connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, params)
        if not chunk:
            yield from cursor.fetchall()
            return
        while rows := cursor.fetchmany(chunk):
            yield from rows
