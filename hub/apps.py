from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Composition: API, URLs, sockets, demo"
