from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """Finding records again (search over a blind index) and keeping them exactly as long as the law
    says (retention, legal hold, shredding)."""

    name = "records"
    label = "records"
    verbose_name = "Records: search and retention"
