"""Every existing operation gets its own category list (operations.OperationCategory).

An operation gets each category its goods lines use (in any version) and its target categories;
an operation still open (planned, active, follow-up) also keeps every active category it offered
before, so its officers see the same list. The old global categories stay as the shared catalogue,
under the same keys: goods lines, and the results chain that hashes them, do not change.
"""

from django.db import migrations

OPEN_STATES = ("planned", "active", "follow_up")


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Operation = apps.get_model("operations", "Operation")
    CommodityCategory = apps.get_model("operations", "CommodityCategory")
    OperationCategory = apps.get_model("operations", "OperationCategory")
    GoodsLine = apps.get_model("results", "GoodsLine")
    catalogue = {c.pk: c for c in CommodityCategory.objects.all()}
    for operation in Operation.objects.all():
        wanted = set(
            GoodsLine.objects.filter(version__result__operation=operation).values_list(
                "category_id", flat=True
            )
        )
        wanted |= set(operation.target_categories.values_list("pk", flat=True))
        if operation.state in OPEN_STATES:
            wanted |= {pk for pk, c in catalogue.items() if c.active}
        OperationCategory.objects.bulk_create(
            [
                OperationCategory(
                    operation=operation,
                    category_id=pk,
                    name=catalogue[pk].name,
                    names=dict(catalogue[pk].names or {}),
                    position=catalogue[pk].position,
                    active=catalogue[pk].active,
                )
                for pk in sorted(wanted)
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0002_operation_categories"),
        ("results", "0003_resultversion_voided"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
