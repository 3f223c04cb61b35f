from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "forensics.evidence"
    label = "evidence"
