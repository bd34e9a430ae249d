"""The rooms app. On start it follows ``operations.signals.operation_changed`` to make rooms."""

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Rooms and messages"

    def ready(self) -> None:
        # Django's place for connecting receivers: the models are loaded only now.
        from messaging.services import operation_changed_receiver
        from operations.signals import operation_changed

        operation_changed.connect(operation_changed_receiver, dispatch_uid="messaging.rooms")
