from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "forensics.audit"
    label = "audit"
