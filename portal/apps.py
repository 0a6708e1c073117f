from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The client's own portal: history, trends, how I feel today, invitations and the record export."""

    name = "portal"
    verbose_name = "Client portal"
