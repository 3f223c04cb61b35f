"""``field__any=values``: the IN lookup with the values sent as one array on PostgreSQL.

An IN list carries one placeholder per value: Django adapts each value and the driver finds
every placeholder again in the statement text. For the thousands of event ids and
credential ids that correlation asks for at once, that costs more than the query. PostgreSQL
reads ``column = ANY(%s)`` with a single array parameter the same way (an IN list is turned
into it); other databases get the plain IN list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field
from django.db.models.lookups import In


@Field.register_lookup
class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if not isinstance(self.rhs, list | tuple | set | frozenset):
            return super().as_sql(compiler, connection)  # a subquery: IN (SELECT ...)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        db_type = field.db_type(connection)
        if db_type in _INTEGER_TYPES:
            # Written as one array literal: psycopg dumps a list value by value in Python,
            # and event ids come by the thousand.
            ids = [v for v in dict.fromkeys(self.rhs) if v is not None]
            if not ids:
                raise EmptyResultSet
            return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, integer_array(ids)]
        values = [
            field.get_db_prep_value(v, connection, prepared=True)
            for v in dict.fromkeys(self.rhs)
            if v is not None
        ]
        if not values:
            raise EmptyResultSet
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})


def integer_array(values: Iterable[Any]) -> str:
    """Integers as the text of one PostgreSQL array (cast it: ``%s::bigint[]``).

    psycopg dumps a list parameter value by value in Python; event ids come by the
    thousand, and this costs a third as much."""
    return "{" + ",".join(map(str, map(int, values))) + "}"
