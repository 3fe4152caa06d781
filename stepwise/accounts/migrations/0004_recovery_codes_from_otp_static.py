"""Moves recovery codes out of django-otp's static tokens, which stored them in plain
text, into hashed recovery codes (accounts.RecoveryCodeDevice), then removes the
otp_static tables: the plain codes must not stay behind in the database.

otp_static is no longer an installed app, so its tables are read with plain SQL when
they exist (a database created before this change) and skipped otherwise. Its
content types and permissions stay until `stepwise remove_stale_contenttypes`.
Going back does not restore the plain codes: users make new ones in their settings.
"""

import base64
import hashlib
import secrets

from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder

STATIC_DEVICES = "otp_static_staticdevice"
STATIC_TOKENS = "otp_static_statictoken"

# The storage format of accounts.rules.hash_recovery_code as of this migration,
# copied so that later changes there cannot change what this migration does.
N, R, P = 2**12, 8, 1


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def _hash(code):
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(code.encode(), salt=salt, n=N, r=R, p=P, dklen=32, maxmem=64 * 2**20)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def _normalize(typed):
    return "".join(typed.split()).replace("-", "").lower()


def hash_static_tokens(apps, schema_editor):
    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    if STATIC_TOKENS not in tables or STATIC_DEVICES not in tables:
        return
    Device = apps.get_model("accounts", "RecoveryCodeDevice")
    Code = apps.get_model("accounts", "RecoveryCode")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.user_id, t.token FROM otp_static_statictoken t"
            " JOIN otp_static_staticdevice d ON d.id = t.device_id WHERE d.confirmed = %s",
            [True],
        )
        rows = cursor.fetchall()
    codes_by_user = {}
    for user_id, token in rows:
        codes_by_user.setdefault(user_id, set()).add(_normalize(token))
    for user_id, codes in codes_by_user.items():
        device, _ = Device.objects.get_or_create(
            user_id=user_id, defaults={"name": "Recovery codes", "confirmed": True}
        )
        Code.objects.bulk_create(Code(device=device, digest=_hash(c)) for c in sorted(codes))
    schema_editor.execute("DROP TABLE otp_static_statictoken")
    schema_editor.execute("DROP TABLE otp_static_staticdevice")
    # otp_static's migrations no longer apply to anything: forget them, so
    # installing the app again would create its tables afresh.
    MigrationRecorder(connection).migration_qs.filter(app="otp_static").delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_recovery_codes_and_account_state")]

    operations = [migrations.RunPython(hash_static_tokens, migrations.RunPython.noop)]
