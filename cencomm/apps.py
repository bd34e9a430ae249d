from django.apps import AppConfig


class CencommConfig(AppConfig):
    name = "cencomm"
    verbose_name = "CENcomm hub core"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from cencomm import metrics

        user_login_failed.connect(metrics.password_failed, dispatch_uid="cencomm.metrics.password_failed")
        user_locked_out.connect(
            metrics.password_locked_out, dispatch_uid="cencomm.metrics.password_locked_out"
        )
