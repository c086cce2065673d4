#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pods_project.settings")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        # A missing or unreachable database: one line saying what to do, not a traceback.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = ("Run `manage.py ensure_database` (or `make setup`) to create it" if "does not exist" in first
                else "Check DATABASE_URL and that Postgres is running (`make services` starts it)")
        sys.exit(f"Database error: {first}. {hint}.")


if __name__ == "__main__":
    main()
