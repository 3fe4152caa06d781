"""On PostgreSQL, an index of the audit rows that name no single patient (reads of a
page listing several: the unit board, a review queue) by their JSON detail, so the
audit log's patient search finds such a row under each patient it lists without
reading every multi-patient row of the organization. SQLite has no such index; its
search reads those rows (a small single-server log)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEX = "audit_detail_patients_gin"


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON core_auditevent "
            "USING gin (detail jsonb_path_ops) WHERE patient_public_id IS NULL"
        )


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("core", "0005_audit_actions_for_medications")]
    operations = [migrations.RunPython(forward, backward)]
