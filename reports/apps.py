from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    label = "reports"
    verbose_name = "Post-operation reports"

    def ready(self) -> None:
        from cencomm import metrics
        from reports.monitoring import job_figures

        metrics.report_jobs_source = job_figures
