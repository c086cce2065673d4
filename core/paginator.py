"""A paginator whose count of a whole large table is Postgres' estimate, not ``COUNT(*)``.

Counting every row of a 100,000-row table is a full scan on each page view; the planner's
estimate (``pg_class.reltuples``, kept by autovacuum and ANALYZE) costs nothing. It is used only
for an unfiltered queryset over a table estimated at ``EXACT_BELOW`` rows or more; a filtered
list (a search, a status filter), a small table or a table never analysed is counted exactly.
"""
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

EXACT_BELOW = 10_000


def estimated_rows(model, using: str = "default") -> int | None:
    """The planner's row estimate for ``model``'s table (None when unknown or not Postgres)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    """Django's Paginator, counting a large unfiltered table by estimate (see the module doc)."""

    @cached_property
    def count(self):
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where and not queryset.query.distinct:
            estimate = estimated_rows(queryset.model, queryset.db)
            if estimate is not None and estimate >= EXACT_BELOW:
                return estimate
        return super().count
