from django.apps import AppConfig


class CencommConfig(AppConfig):
    name = "cencomm"
    verbose_name = "CENcomm hub core"
