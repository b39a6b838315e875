"""Forms of the org pages. Unit references are typed as codes and resolved inside the
user's change scope, so a forged code outside the scope is just 'not found'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from quantriet.org.models import Unit
from quantriet.text import parse_date


class VNDateField(forms.DateField):
    """A date typed as dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, yyyy-mm-dd)."""

    widget = forms.TextInput(attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_date(str(value))
        except ValueError:
            raise forms.ValidationError(
                _("Enter a date as dd/mm/yyyy, for example 01/07/2025."), code="invalid"
            ) from None


class UnitCodeField(forms.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)
        self.queryset = Unit.objects.none()

    def clean(self, value):
        code = (super().clean(value) or "").strip()
        if not code:
            return None
        try:
            return self.queryset.get(code__iexact=code)
        except Unit.DoesNotExist:
            raise forms.ValidationError(
                _("No unit with code “%(code)s” in your scope."), params={"code": code}
            ) from None


class RestructureForm(forms.Form):
    ACTIONS = [
        ("move", _("Move under another unit")),
        ("merge", _("Merge into another unit")),
        ("dissolve", _("Dissolve")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    target = UnitCodeField(
        label=_("Code of the new parent / the unit to merge into"), required=False
    )
    date = VNDateField(label=_("Effective date"))
    note = forms.CharField(label=_("Note (decision number, reason)"), required=False,
                           max_length=500)

    def __init__(self, *args, user, unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit
        self.fields["target"].queryset = Unit.objects.visible_to(user, "change")

    def clean(self):
        data = super().clean()
        if data.get("action") in ("move", "merge") and not data.get("target"):
            if "target" not in self.errors:
                self.add_error("target", _("Give the code of the other unit."))
        return data
