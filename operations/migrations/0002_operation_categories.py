"""Categories belong to an operation: the catalogue gets translated names, each operation its own list."""

import django.db.models.deletion
from django.db import migrations, models

import operations.models


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="commoditycategory",
            name="name",
            field=models.CharField(max_length=100),
        ),
        migrations.AddField(
            model_name="commoditycategory",
            name="names",
            field=models.JSONField(
                blank=True, default=dict, validators=[operations.models.validate_category_names]
            ),
        ),
        migrations.CreateModel(
            name="OperationCategory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "names",
                    models.JSONField(
                        blank=True, default=dict, validators=[operations.models.validate_category_names]
                    ),
                ),
                ("position", models.PositiveIntegerField(default=100)),
                ("active", models.BooleanField(default=True)),
                (
                    "category",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="operations.commoditycategory",
                    ),
                ),
                (
                    "operation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="categories",
                        to="operations.operation",
                    ),
                ),
            ],
            options={
                "ordering": ["position", "name"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("operation", "category"), name="operation_category_unique"
                    ),
                    models.UniqueConstraint(fields=("operation", "name"), name="operation_category_name"),
                ],
            },
        ),
    ]
