from django.db import migrations

# The defaults as they stood when this migration was written (migrations never
# import code that may change later).
DEFAULTS = (
    ("group_therapy", "Group therapy", "group", 90, True),
    ("individual_therapy", "Individual therapy", "individual", 50, True),
    ("family_therapy", "Family therapy", "individual", 60, True),
    ("social_skills", "Social skills class", "group", 60, True),
    ("drug_education", "Drug education class", "group", 60, True),
    ("relapse_prevention", "Relapse prevention group", "group", 90, True),
    ("life_skills", "Life skills class", "group", 60, True),
    ("support_group", "Support group meeting", "group", 60, False),
    ("medical_visit", "Medical visit", "individual", 30, True),
)


def add_defaults(apps, schema_editor):
    Organization = apps.get_model("core", "Organization")
    SessionType = apps.get_model("scheduling", "SessionType")
    for organization in Organization.objects.all():
        have = set(
            SessionType.objects.filter(organization=organization).values_list("code", flat=True)
        )
        SessionType.objects.bulk_create(
            SessionType(
                organization=organization,
                code=code,
                name=name,
                mode=mode,
                default_minutes=minutes,
                counts_clinical=clinical,
            )
            for code, name, mode, minutes, clinical in DEFAULTS
            if code not in have
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
