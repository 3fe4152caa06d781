from __future__ import annotations

from django import forms

from stepwise.accounts.services import MAX_TOKEN_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Where the token is used, e.g. 'reporting script'."
    )
    days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=MAX_TOKEN_DAYS, initial=90
    )
