from __future__ import annotations

from django import forms

from forensics.engine.parsers import all_parsers
from forensics.ingest.models import Source


def format_choices() -> list[tuple[str, str]]:
    return [(Source.AUTO, "auto-detect")] + [(p.kind, p.label) for p in all_parsers()]


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Source.objects.all())
    format = forms.ChoiceField(choices=format_choices)
    file = forms.FileField(help_text="a log file as its producer writes it; gzip accepted")
