from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from forensics.cases.models import Case, CaseNote
from forensics.core.roles import INVESTIGATOR, has_role


class CaseForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class NoteForm(forms.ModelForm):
    class Meta:
        model = CaseNote
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "placeholder": "what you found"})}
        labels = {"text": "note"}


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, label="investigator's username")

    def clean_username(self) -> AbstractBaseUser:
        name = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None or not has_role(user, INVESTIGATOR):
            raise forms.ValidationError("No active investigator has this username.")
        return user
