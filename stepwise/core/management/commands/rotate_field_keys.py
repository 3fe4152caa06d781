from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction

from stepwise.core.audit import audit_record
from stepwise.core.crypto import (
    EncryptedTextField,
    FieldKeyError,
    encrypted_fields,
    generate_key,
    is_current,
    key_problems,
    rotate_token,
)
from stepwise.core.models import AuditAction


@dataclass
class ColumnReport:
    label: str
    rotated: int = 0
    current: int = 0
    changed: int = 0

    def __str__(self) -> str:
        text = f"{self.label}: {self.rotated} re-encrypted, {self.current} already on the first key"
        if self.changed:
            text += f", {self.changed} rewritten meanwhile by the application"
        return text


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column with the first key of STEPWISE_FIELD_KEYS, "
        "so older keys can then be removed."
    )
    # A malformed key must not stop --generate-key; rotation reports bad keys itself.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )
        parser.add_argument(
            "--generate-key", action="store_true", help="Only print a new key and exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate_key"]:
            self.stdout.write(generate_key())
            return
        problems = key_problems(settings.FIELD_ENCRYPTION_KEYS)
        if problems:
            raise CommandError(" ".join(problems))
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        reports = []
        try:
            for model, field in encrypted_fields():
                report = self._rotate_column(model, field, batch_size)
                self.stdout.write(str(report))
                reports.append(report)
        except FieldKeyError as exc:
            raise CommandError(str(exc)) from None
        rotated = sum(r.rotated for r in reports)
        with transaction.atomic():
            audit_record(
                action=AuditAction.KEY_ROTATE,
                actor_username="rotate_field_keys",
                category="field_keys",
                detail={r.label: r.rotated for r in reports},
            )
        self.stdout.write(f"Done: {rotated} value(s) re-encrypted in {len(reports)} column(s).")

    def _rotate_column(
        self, model: type[models.Model], field: EncryptedTextField, batch_size: int
    ) -> ColumnReport:
        """Walk the column in primary-key order, one transaction per batch.

        Raw SQL on the stored tokens: they are re-encrypted without the model
        layer, so no clinical timestamp moves and no other column is written.
        """
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        column = quote(str(field.column))
        pk_field = model._meta.pk
        assert pk_field is not None  # every concrete model has one
        pk = quote(str(pk_field.column))
        report = ColumnReport(f"{model._meta.label}.{field.name}")
        last: Any = None
        while True:
            after = "" if last is None else f" AND {pk} > %s"
            params = [] if last is None else [last]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''{after} "  # noqa: S608 # nosec B608 # names quoted from model metadata; values are parameters
                    f"ORDER BY {pk} LIMIT {int(batch_size)}",
                    params,
                )
                rows = cursor.fetchall()
                for row_pk, token in rows:
                    if is_current(token):
                        report.current += 1
                        continue
                    label = f"{report.label} of row {row_pk}"
                    new_token = rotate_token(token, label=label)
                    # Only if unchanged since read: a concurrent save already used the first key.
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",  # noqa: S608 # nosec B608 # names quoted from model metadata; values are parameters
                        [new_token, row_pk, token],
                    )
                    if cursor.rowcount:
                        report.rotated += 1
                    else:
                        report.changed += 1
            if len(rows) < batch_size:
                return report
            last = rows[-1][0]
