"""Audit log: a data class on every event, and a hash version so rows written
before it still verify (they keep version 1 and a blank class).

On SQLite, adding a column rebuilds the table and would drop the append-only
triggers, so they are lifted around the change and put back; rows are copied,
never updated.
"""

import importlib

from django.db import migrations, models

APPEND_ONLY = importlib.import_module("stepwise.core.migrations.0002_audit_append_only")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_audit_append_only"),
    ]

    operations = [
        migrations.RunPython(APPEND_ONLY.backward, APPEND_ONLY.forward),
        migrations.RemoveConstraint(
            model_name="auditevent",
            name="audit_action_valid",
        ),
        migrations.AddField(
            model_name="auditevent",
            name="data_class",
            field=models.CharField(
                blank=True,
                choices=[
                    ("part2", "Part 2"),
                    ("phi", "PHI"),
                    ("account", "Account"),
                    ("system", "System"),
                ],
                default="",
                max_length=10,
            ),
        ),
        # Rows already written were hashed with version 1; new rows use version 2.
        migrations.AddField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=1),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "Create"),
                    ("read", "Read"),
                    ("update", "Update"),
                    ("admit", "Admit"),
                    ("transition", "Transition"),
                    ("discharge", "Discharge"),
                    ("search", "Search"),
                    ("login", "Login"),
                    ("logout", "Logout"),
                    ("login_failed", "Login failed"),
                    ("access_denied", "Access denied"),
                    ("export", "Export"),
                    ("token_create", "API token created"),
                    ("token_revoke", "API token revoked"),
                    ("key_rotate", "Field keys rotated"),
                ],
                max_length=30,
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "action__in",
                        [
                            "create",
                            "read",
                            "update",
                            "admit",
                            "transition",
                            "discharge",
                            "search",
                            "login",
                            "logout",
                            "login_failed",
                            "access_denied",
                            "export",
                            "token_create",
                            "token_revoke",
                            "key_rotate",
                        ],
                    )
                ),
                name="audit_action_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("data_class__in", ["part2", "phi", "account", "system", ""])),
                name="audit_data_class_valid",
            ),
        ),
        migrations.RunPython(APPEND_ONLY.forward, APPEND_ONLY.backward),
    ]
