from django.contrib.auth.management import create_permissions
from django.db import migrations

# The admin role manages sources, tokens, personal-data rules, the identity directory and
# users; it may read (never change) the access log.
MANAGED_APPS = ("ingest", "identities", "auth")
READ_ONLY_APPS = ("audit",)


def grant(apps, schema_editor):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin = Group.objects.get(name="admin")
    perms = Permission.objects.filter(content_type__app_label__in=MANAGED_APPS)
    views = Permission.objects.filter(
        content_type__app_label__in=READ_ONLY_APPS, codename__startswith="view_"
    )
    admin.permissions.add(*perms, *views)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_roles"),
        ("ingest", "0001_initial"),
        ("identities", "0001_initial"),
        ("audit", "0001_initial"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
