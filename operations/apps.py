"""The operations app. On start it follows ``post_save`` of users: a deactivated account's
operations get a new access epoch (``operations.services.user_access_changed_receiver``)."""

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Django's place for connecting receivers: the models are loaded only now.
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from operations.services import user_access_changed_receiver

        post_save.connect(
            user_access_changed_receiver, sender=get_user_model(), dispatch_uid="operations.user_access"
        )
