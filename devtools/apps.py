from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """The tools for building and measuring a practice: the demo data, the bulk loader, the page benchmark.

    They may use every app; nothing in the product imports them. No models.
    """

    name = "devtools"
    verbose_name = "Development tools"
