"""Create the configured Postgres database if it does not exist yet (used by ``make run``)."""
import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql


class Command(BaseCommand):
    help = "Create the database named by DATABASE_URL when it is missing. Idempotent."

    def handle(self, *args, **options):
        db = settings.DATABASES["default"]
        params = {
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "dbname": "postgres",
            "connect_timeout": 5,
        }
        name = db["NAME"]
        try:
            with psycopg.connect(**{k: v for k, v in params.items() if v is not None},
                                 autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
                if exists:
                    self.stdout.write(f"Database {name!r} already exists.")
                    return
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise CommandError(f"Could not reach Postgres to create {name!r}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Created database {name!r}."))
