"""On PostgreSQL the database itself refuses overlapping stays in one episode."""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE care_stay ADD CONSTRAINT stay_no_overlap
    EXCLUDE USING gist (episode_id WITH =, tstzrange(started_at, ended_at, '[)') WITH &&);
"""
BACKWARD = "ALTER TABLE care_stay DROP CONSTRAINT IF EXISTS stay_no_overlap;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
