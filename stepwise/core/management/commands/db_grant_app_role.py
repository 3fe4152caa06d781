from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from stepwise.core.models import AuditChainHead, AuditEvent

ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Tables the running application must not change freely.
LIMITED: dict[str, tuple[str, ...]] = {
    # Append-only: with the triggers, a second wall the application role cannot lower.
    AuditEvent._meta.db_table: ("SELECT", "INSERT"),
    # Moving a chain head forward is part of appending (SELECT ... FOR UPDATE, UPDATE).
    AuditChainHead._meta.db_table: ("SELECT", "UPDATE"),
    # Migrations are run by the schema owner, never by the application.
    "django_migrations": ("SELECT",),
}


def grant_statements(role: str, schema: str, tables: list[str]) -> list[str]:
    """What makes `role` the application's runtime role: exactly these privileges, no more."""
    quoted_role = connection.ops.quote_name(role)
    quoted_schema = connection.ops.quote_name(schema)
    statements = [f"GRANT USAGE ON SCHEMA {quoted_schema} TO {quoted_role}"]
    for table in sorted(tables):
        name = f"{quoted_schema}.{connection.ops.quote_name(table)}"
        privileges = ", ".join(LIMITED.get(table, READ_WRITE))
        # Revoke first so a rerun also removes what an earlier grant gave (TRUNCATE...).
        statements.append(f"REVOKE ALL ON TABLE {name} FROM {quoted_role}")
        statements.append(f"GRANT {privileges} ON TABLE {name} TO {quoted_role}")
    statements.append(
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted_schema} TO {quoted_role}"
    )
    return statements


class Command(BaseCommand):
    help = (
        "PostgreSQL: give the application's runtime ROLE read-write access to the "
        "application tables but only SELECT and INSERT on the audit log. Run it as the "
        "schema owner after every `stepwise migrate`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="The database role the application connects as.")

    def handle(self, *args: Any, **options: Any) -> None:
        role: str = options["role"]
        if connection.vendor != "postgresql":
            raise CommandError(
                f"db_grant_app_role works on PostgreSQL only; this database is {connection.vendor}, "
                "which has no roles (protect its file with the operating system's permissions)."
            )
        if not ROLE_NAME.fullmatch(role):
            raise CommandError(
                f"{role!r} is not a plain role name (letters, digits and _, not starting with a digit)."
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, rolname = current_user FROM pg_roles WHERE rolname = %s", [role]
            )
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"There is no database role {role!r}; create it first.")
            if found[0]:
                raise CommandError(f"{role!r} is a superuser: no privilege can limit it.")
            if found[1]:
                raise CommandError(
                    f"{role!r} is the role running this command; run it as the schema owner "
                    "and name the application's own role."
                )
            cursor.execute("SELECT current_schema()")
            schema = cursor.fetchone()[0]
            cursor.execute(
                "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = %s", [schema]
            )
            tables = cursor.fetchall()
            owned = sorted(name for name, owner in tables if owner == role)
            if owned:
                raise CommandError(
                    f"{role!r} owns {', '.join(owned)}: an owner can do anything to its tables. "
                    "Let the schema owner own them (ALTER TABLE ... OWNER TO) and run this again."
                )
            for statement in grant_statements(role, schema, [name for name, _ in tables]):
                cursor.execute(statement)
        names = {name for name, _ in tables}
        limited = [f"{t} {', '.join(p)}" for t, p in LIMITED.items() if t in names]
        self.stdout.write(
            f"{role}: SELECT, INSERT, UPDATE, DELETE on {len(names - set(LIMITED))} table(s); "
            + "; ".join(limited)
            + "; USAGE, SELECT on the sequences."
        )
