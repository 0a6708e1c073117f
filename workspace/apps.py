from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The therapist's workspace: the caseload and a client's record, composed from clients and sessions."""

    name = "workspace"
    verbose_name = "Therapist workspace"
