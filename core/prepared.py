"""Querysets compiled to SQL once per process, for the hottest reads.

Building a queryset and compiling it to SQL costs several times what Postgres takes to answer a
primary-key-sized query: for ``GET /v3/pods/{id}`` it was most of the request. A
:class:`PreparedQuery` builds its queryset once, with placeholder values, records where each
placeholder landed among the SQL parameters, and from then on only substitutes the real values
and runs the SQL through ``Model.objects.raw`` (which still applies every field's converters, so
instances come out exactly as the ORM makes them).

Only for querysets whose parameters are the given values unchanged (``=`` and ``IN`` filters on
plain columns); :meth:`PreparedQuery.sql` refuses a queryset where a placeholder went missing.
Columns must have distinct names (no ``select_related``: ``raw`` maps columns by name).
"""
import threading
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet


class _Placeholder:
    """Distinct sample values that survive ``get_prep_value`` unchanged."""

    def __init__(self):
        self._next = 0

    def text(self, name: str) -> str:
        return f"\x00prepared:{name}\x00"

    def integer(self, name: str) -> int:
        self._next += 1
        return -(2**62) + self._next


class PreparedQuery:
    """``build(**values)`` compiled once; ``run(**values)`` substitutes and executes.

    ``kinds`` names each argument's type, ``"text"`` or ``"int"`` (the placeholder must pass
    the column's own conversion)."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: str):
        self._build = build
        self._kinds = kinds
        self._compiled: tuple[str, list] | None = None
        self._lock = threading.Lock()

    def sql(self) -> tuple[str, list]:
        """The SQL and, per parameter, either an argument's name (a str) or a constant (a 1-tuple)."""
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        return self._compiled

    def _compile(self):
        sample = _Placeholder()
        values = {name: sample.text(name) if kind == "text" else sample.integer(name)
                  for name, kind in self._kinds.items()}
        queryset = self._build(**values)
        sql, params = queryset.query.get_compiler(using=queryset.db or DEFAULT_DB_ALIAS).as_sql()
        by_value = {value: name for name, value in values.items()}
        slots = [by_value[param] if param in by_value else (param,) for param in params]
        missing = set(values) - {slot for slot in slots if isinstance(slot, str)}
        if missing:
            raise ValueError(f"{sorted(missing)} do not appear as parameters of the compiled query")
        self.model = queryset.model
        return sql, slots

    def run(self, **values) -> list:
        """Model instances (extra selected columns, e.g. annotations, become attributes)."""
        sql, slots = self.sql()
        params = [values[slot] if isinstance(slot, str) else slot[0] for slot in slots]
        return list(self.model._default_manager.raw(sql, params))

    def tuples(self, **values) -> list:
        """The rows as tuples, straight from the cursor: for a ``values_list`` of plain columns
        (no field converters run)."""
        from django.db import connections

        sql, slots = self.sql()
        params = [values[slot] if isinstance(slot, str) else slot[0] for slot in slots]
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


# -- inserts -------------------------------------------------------------------------------------
_insert_sql: dict = {}  # model -> (sql, fields, sql with the primary key, fields with it) or False


def one_or_none(queryset: QuerySet):
    """The only row of ``queryset`` (filtered on a unique key), or None.

    Django's ``get()``, which runs without ORDER BY; not ``first()``, which orders by the
    model's ``Meta.ordering``: compiling that ordering cost the worker more than the query
    itself (a quarter of its CPU under bench/api_load.py went to ``get_order_by``).
    """
    try:
        return queryset.get()
    except queryset.model.DoesNotExist:
        return None


def insert(obj) -> None:
    """``obj.save(force_insert=True)`` with the INSERT's SQL built once per model.

    A create writes four rows; building and compiling each INSERT (a query object, a compiler,
    the column list) cost more than Postgres took to run it. Here each model's statement is
    built once; every call only takes each field's ``pre_save`` (defaults, ``auto_now_add``)
    and ``get_db_prep_save`` values, as ``Model.save`` does, and sets the returned primary key
    (or writes the one already set, from :func:`reserve_pk`). Models with
    ``pre_save``/``post_save`` receivers are saved the ordinary way (no signal is skipped), as is
    anything this does not cover (database defaults, fields with their own placeholders).
    """
    from django.db import connections

    using = obj._state.db or DEFAULT_DB_ALIAS
    connection = connections[using]
    prepared = _prepared_insert(obj, connection)
    if prepared is None:
        obj.save(force_insert=True, using=using)
        return
    sql, params, returning = prepared
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, using


def _prepared_insert(obj, connection):
    """``obj``'s INSERT (built once per model) with its parameters, and whether it returns the
    generated key; None when it must be saved the ordinary way (see :func:`insert`)."""
    from django.db.models import signals

    model = type(obj)
    compiled = _insert_sql.get(model)
    if compiled is None:
        compiled = _insert_sql[model] = _build_insert(model, connection)
    auto = model._meta.auto_field is not None
    if (compiled is False or (obj.pk is None and not auto) or signals.pre_save.has_listeners(model)
            or signals.post_save.has_listeners(model)):
        return None
    returning = auto and obj.pk is None
    sql, fields = compiled[:2] if returning else compiled[2:]
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection=connection) for field in fields]
    return sql, params, returning


def insert_all(*objs) -> None:
    """:func:`insert` of each of ``objs`` (one database), as one statement: a round trip, not one
    per row.

    Each INSERT becomes a data-modifying CTE of a single statement (the order does not matter:
    the foreign keys are checked at the commit), the generated primary keys are read back from
    their ``RETURNING``. A create's rows went from four round trips to one. If any object would
    not take :func:`insert`'s fast path, each is inserted on its own.
    """
    from django.db import connections

    if not objs:
        return
    using = objs[0]._state.db or DEFAULT_DB_ALIAS
    connection = connections[using]
    parts, params, returning = [], [], []
    for obj in objs:
        prepared = _prepared_insert(obj, connection) if (obj._state.db or DEFAULT_DB_ALIAS) == using else None
        if prepared is None:
            for each in objs:
                insert(each)
            return
        sql, obj_params, generated = prepared
        parts.append(f"i{len(parts)} AS ({sql})")
        params.extend(obj_params)
        if generated:
            returning.append((obj, f"(SELECT * FROM i{len(parts) - 1})"))
    select = ", ".join(column for _, column in returning) or "1"
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} SELECT {select}", params)
        row = cursor.fetchone()
    for (obj, _), pk in zip(returning, row):
        obj.pk = pk
    for obj in objs:
        obj._state.adding, obj._state.db = False, using


def reserve_pk(model, using: str = DEFAULT_DB_ALIAS) -> int:
    """The next value of ``model``'s primary-key sequence, for an :func:`insert` to write later.

    The rows that point to a new row can then be written before it (Django's foreign keys are
    ``DEFERRABLE INITIALLY DEFERRED`` on Postgres: checked at the commit), so the new row's
    insert can be the transaction's last statement but one (pods.services.pods.pod_create).
    """
    from django.db import connections

    meta = model._meta
    if meta.auto_field is None:
        raise ValueError(f"{model.__name__} has no auto-incremented primary key")
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))", [meta.db_table, meta.pk.column])
        return cursor.fetchone()[0]


def _build_insert(model, connection):
    from django.db.models.fields import AutoFieldMixin

    meta = model._meta
    if meta.parents or (meta.auto_field is not None and not isinstance(meta.pk, AutoFieldMixin)):
        return False
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    if any(hasattr(f, "get_placeholder") or f.has_db_default() for f in fields):
        return False
    quote = connection.ops.quote_name

    def statement(columns):
        return (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})")

    if meta.auto_field is None:
        return statement(fields), fields, statement(fields), fields
    with_pk = [meta.auto_field, *fields]
    return f"{statement(fields)} RETURNING {quote(meta.pk.column)}", fields, statement(with_pk), with_pk


# -- deletes -------------------------------------------------------------------------------------
_delete_sql: dict = {}  # model -> (sql, number of parameters, models involved) or False


def delete(obj) -> None:
    """``obj.delete()`` in one statement, built once per model: the rows that point to ``obj``
    deleted (``CASCADE``) or unlinked (``SET_NULL``) in the same statement as ``obj``'s row.

    Django's collector first SELECTs every related row, then deletes model by model: a pod's
    delete was nine queries and a fifth of the web's CPU under ``bench/api_load.py``. Only a
    model whose related rows have nothing pointing to them in turn is done here, and only while
    no model involved has delete signal receivers; anything else is ``obj.delete()``. The
    foreign keys are Django's (checked at the end of the statement, or at the commit), so the
    order of the parts does not matter.
    """
    from django.db import connections
    from django.db.models import signals

    model = type(obj)
    using = obj._state.db or DEFAULT_DB_ALIAS
    compiled = _delete_sql.get(model)
    if compiled is None:
        compiled = _delete_sql[model] = _build_delete(model, connections[using])
    if compiled is False or obj.pk is None or any(
            signals.pre_delete.has_listeners(m) or signals.post_delete.has_listeners(m) for m in compiled[2]):
        obj.delete(using=using)
        return
    sql, count, _models = compiled
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [obj.pk] * count)
    obj.pk = None


def _build_delete(model, connection):
    from django.db import models

    meta = model._meta
    if meta.parents or meta.private_fields or any(f.many_to_many for f in meta.get_fields()):
        return False
    quote = connection.ops.quote_name
    parts, involved = [], [model]
    for relation in meta.related_objects:
        related, field = relation.related_model, relation.field
        if relation.many_to_many or related._meta.parents or field.target_field is not meta.pk:
            return False
        table, column = quote(related._meta.db_table), quote(field.column)
        if relation.on_delete is models.CASCADE:
            if related._meta.related_objects or related._meta.private_fields:
                return False  # rows pointing to these rows: the collector's job
            parts.append(f"DELETE FROM {table} WHERE {column} = %s")
        elif relation.on_delete is models.SET_NULL:
            parts.append(f"UPDATE {table} SET {column} = NULL WHERE {column} = %s")
        elif relation.on_delete is not models.DO_NOTHING:
            return False  # PROTECT, RESTRICT, SET_DEFAULT, SET(...): the collector decides
        involved.append(related)
    ctes = ", ".join(f"r{i} AS ({part})" for i, part in enumerate(parts))
    sql = (f"WITH {ctes} " if ctes else "") + \
        f"DELETE FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s"
    return sql, len(parts) + 1, tuple(involved)
