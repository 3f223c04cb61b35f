from django.apps import AppConfig


class InvestigateConfig(AppConfig):
    name = "forensics.investigate"
    label = "investigate"
