"""Operations closed before ``closed_at`` existed get it from their history: the time of their latest
move to closed (an archived operation was closed first). Retention counts from it. An operation
closed with no recorded transition keeps none and is not due until someone closes it again."""

from django.db import migrations

CLOSED_STATES = ("closed", "archived")


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Operation = apps.get_model("operations", "Operation")
    OperationTransition = apps.get_model("operations", "OperationTransition")
    for operation in Operation.objects.filter(state__in=CLOSED_STATES, closed_at__isnull=True):
        last_close = (
            OperationTransition.objects.filter(operation=operation, to_state="closed").order_by("-at").first()
        )
        if last_close is not None:
            Operation.objects.filter(pk=operation.pk).update(closed_at=last_close.at)


class Migration(migrations.Migration):
    dependencies = [("operations", "0003_records_and_access_epoch")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
