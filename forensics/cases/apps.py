from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "forensics.cases"
    label = "cases"
