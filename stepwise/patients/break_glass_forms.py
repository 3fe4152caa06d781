from __future__ import annotations

from django import forms


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="The emergency",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What is happening and why you need this chart now. Reviewed by the privacy officer.",
    )
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(
        label="Review", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
