"""``{{ rate|pct }}``: a rate (0–1) as a percentage with one decimal, "—" when unknown."""

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def pct(value):
    if value is None:
        return "—"
    return f"{number_format(value * 100, 1)} %"
