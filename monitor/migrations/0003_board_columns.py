"""The board's summaries and warnings as columns of their own, and the health and readings documents moved to
the end of the row (SQLite reads columns in order; see Pair)."""

from django.db import migrations, models


def fill(apps, schema_editor):
    Pair = apps.get_model("status", "Pair")
    for pair in Pair._base_manager.only("id", "health").iterator():
        health = pair.health or {}
        Pair._base_manager.filter(pk=pair.pk).update(
            ha_summary=(health.get("ha") or {}).get("summary", ""),
            repl_summary=(health.get("replication") or {}).get("summary", ""),
            warnings=list(health.get("warnings") or []),
        )


class Migration(migrations.Migration):

    dependencies = [
        ("status", "0002_pair_archived"),
    ]

    operations = [
        migrations.AddField("pair", "ha_summary", models.TextField(blank=True, default="")),
        migrations.AddField("pair", "repl_summary", models.TextField(blank=True, default="")),
        migrations.AddField("pair", "warnings", models.JSONField(blank=True, default=list)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        # A new column goes last; copy, drop the old one, take its name.
        migrations.AddField("pair", "health_doc", models.JSONField(blank=True, default=dict)),
        migrations.AddField("pair", "readings_doc", models.JSONField(blank=True, default=dict)),
        migrations.RunSQL("UPDATE status_pair SET health_doc = health, readings_doc = readings",
                          "UPDATE status_pair SET health = health_doc, readings = readings_doc"),
        migrations.RemoveField("pair", "health"),
        migrations.RemoveField("pair", "readings"),
        migrations.RenameField("pair", "health_doc", "health"),
        migrations.RenameField("pair", "readings_doc", "readings"),
    ]
