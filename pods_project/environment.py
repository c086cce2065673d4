"""Typed reading of environment variables: the one place the settings parse and reject values.

Every read names the variable and its type. A value that does not parse, or breaks a bound, stops
start-up with ``ImproperlyConfigured`` naming the variable, the value (never a secret's) and what
was expected — in development as in production: a malformed value is never replaced by a
default. Conventions:

- an unset or empty variable takes its default (``.env.example`` lists empty ones that way, and
  ``${VAR:-}`` in docker compose produces them); a read with ``empty=...`` gives an empty value a
  meaning of its own instead (e.g. an empty list);
- ``NAME_FILE`` holding a path reads the value from that file (mounted secrets), through
  django-environ's ``FileAwareMapping``; surrounding whitespace (a file's final newline) is
  dropped;
- values are literal: unlike django-environ's ``Env``, a leading ``$`` is not a reference to
  another variable (a secret may start with one).

``Environment.read`` records every variable read and the value the settings got, so tests and
tools can tell which variables the settings use and what their defaults are.
"""
import json
import math
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from environ.fileaware_mapping import FileAwareMapping

TRUE = frozenset(environ.Env.BOOLEAN_TRUE_STRINGS)
FALSE = frozenset({"false", "off", "n", "no", "0"})
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")


class Required:
    """A default saying the variable must be set (``why``: when, e.g. "when DJANGO_DEBUG is off")."""

    def __init__(self, why: str = ""):
        self.why = why

    def __repr__(self):
        return f"Required({self.why!r})"


REQUIRED = Required()
_UNSET = object()


class Environment:
    """Reads variables from ``mapping`` (default: ``os.environ`` with ``NAME_FILE`` support)."""

    def __init__(self, mapping=None):
        self._mapping = FileAwareMapping() if mapping is None else mapping
        self.read: dict = {}

    # -- the readers -------------------------------------------------------------------------

    def str(self, name, default=REQUIRED, *, choices=None, check=None, empty=_UNSET, secret=False):
        """Text. ``choices``: the allowed values (compared case-insensitively, returned as given);
        ``check(text)`` may check it otherwise (raise ValueError saying what it must be)."""

        def parse(raw):
            if choices is not None and raw.upper() not in {c.upper() for c in choices}:
                raise ValueError(f"one of {', '.join(choices)}")
            if check is not None:
                check(raw)
            return raw

        return self._get(name, default, parse, empty=empty, secret=secret)

    def bool(self, name, default=REQUIRED):
        def parse(raw):
            word = raw.lower()
            if word in TRUE:
                return True
            if word in FALSE:
                return False
            raise ValueError("a boolean (true or false)")

        return self._get(name, default, parse)

    def int(self, name, default=REQUIRED, *, min=None, max=None):  # noqa: A002 - reads as the bound
        def parse(raw):
            try:
                value = int(raw)
            except ValueError:
                raise ValueError("an integer") from None
            return _bounded(value, min, max, "an integer")

        return self._get(name, default, parse)

    def float(self, name, default=REQUIRED, *, min=None, max=None):  # noqa: A002
        def parse(raw):
            try:
                value = float(raw)
            except ValueError:
                raise ValueError("a number") from None
            if not math.isfinite(value):
                raise ValueError("a finite number")
            return _bounded(value, min, max, "a number")

        return self._get(name, default, parse)

    def list(self, name, default=REQUIRED, *, item=None, empty=_UNSET, secret=False):
        """Comma-separated, items stripped; an empty item or a repeated one is an error.

        ``item(text)`` may check each item (raise ValueError saying what an item must be).
        """

        def parse(raw):
            items = [part.strip() for part in raw.split(",")]
            if "" in items:
                raise ValueError("a comma-separated list without empty items")
            repeated = sorted({i for i in items if items.count(i) > 1})
            if repeated:
                which = "an item is" if secret else f"{', '.join(repeated)} is"
                raise ValueError(f"a list naming each item once ({which} repeated)")
            for value in items:
                if item is not None:
                    item(value)
            return items

        return self._get(name, default, parse, empty=empty, secret=secret)

    def json(self, name, default=REQUIRED, *, check=None):
        """JSON text; ``check(value)`` may check its shape (raise ValueError saying what it must be)."""

        def parse(raw):
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ValueError(f"JSON ({exc})") from None
            if check is not None:
                check(value)
            return value

        return self._get(name, default, parse)

    def url(self, name, default=REQUIRED, *, schemes, empty=_UNSET):
        """A URL whose scheme is one of ``schemes``, with a host (unless it is ``unix://``)."""

        def parse(raw):
            _check_url(raw, schemes, host_required=True)
            return raw

        return self._get(name, default, parse, empty=empty, show=_without_password)

    def db(self, name, default=REQUIRED):
        """A PostgreSQL URL, as the dict Django's DATABASES takes (django-environ's parser)."""

        def parse(raw):
            _check_url(raw, POSTGRES_SCHEMES, host_required=False)  # no host: the local socket
            try:
                config = environ.Env.db_url_config(raw)
            except (ValueError, KeyError) as exc:
                raise ValueError(f"a database URL ({exc})") from None
            if not config.get("NAME"):
                raise ValueError("a database URL naming the database (postgres://user@host:5432/NAME)")
            return config

        return self._get(name, default, parse, show=_without_password, parse_default=True)

    # -- the machinery -----------------------------------------------------------------------

    def raw(self, name):
        """The stripped text of ``name``, or None when unset (``NAME_FILE`` honoured)."""
        try:
            value = self._mapping[name]
        except KeyError:
            return None
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE names a file that cannot be read: {exc}") from exc
        return value.strip()

    def _get(self, name, default, parse, *, empty=_UNSET, secret=False, show=repr, parse_default=False):
        raw = self.raw(name)
        if raw == "" and empty is not _UNSET:
            value = empty
        elif raw is None or raw == "":
            if isinstance(default, Required):
                raise ImproperlyConfigured(" ".join(filter(None, (f"{name} must be set", default.why))))
            value = parse(default) if parse_default else default
        else:
            try:
                value = parse(raw)
            except ValueError as exc:
                shown = "(value hidden)" if secret else show(raw)
                raise ImproperlyConfigured(f"{name}={shown} is malformed: expected {exc}") from None
        self.read[name] = value
        return value


def _bounded(value, low, high, kind):
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            raise ValueError(f"{kind} of at least {low}")
        if low is None:
            raise ValueError(f"{kind} of at most {high}")
        raise ValueError(f"{kind} from {low} to {high}")
    return value


def _check_url(raw, schemes, *, host_required):
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"a URL ({exc})") from None
    wanted = " or ".join(f"{s}://" for s in schemes)
    if parts.scheme not in schemes or not raw.startswith(f"{parts.scheme}://"):
        raise ValueError(f"a {wanted} URL")
    if host_required and parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"a {wanted} URL with a host")


def _without_password(raw):
    """The URL for an error message, its password masked."""
    try:
        parts = urlsplit(raw)
        if parts.password:
            return repr(raw.replace(f":{parts.password}@", ":***@", 1))
    except ValueError:
        pass
    return repr(raw)
