from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from clients.models import Client, Consent, ConsentText, ConsentWithdrawal, DiseasePhase, Intake, SelfReport
        from practice.records import never_delete

        never_delete(Client, DiseasePhase, SelfReport, Intake, ConsentText, Consent, ConsentWithdrawal)
