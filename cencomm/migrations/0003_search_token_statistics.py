"""The planner's statistics on token hashes: a finer sample (2,000 buckets, not 100), so that it
knows a rare word's postings are few and starts from them (a nested loop of index scans, well under a
millisecond) instead of scanning every document of the operation. PostgreSQL only."""

from django.db import migrations


def finer_statistics(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE cencomm_searchtoken ALTER COLUMN token SET STATISTICS 2000")


def default_statistics(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE cencomm_searchtoken ALTER COLUMN token SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("cencomm", "0002_search_index")]

    operations = [migrations.RunPython(finer_statistics, default_statistics)]
