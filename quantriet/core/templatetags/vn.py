"""Template filters for Vietnamese formats: ``{{ d|vn_date }}``, ``{{ d|vn_formal }}``."""

from django import template

from quantriet.text import formal_date, format_date

register = template.Library()


@register.filter
def vn_date(value):
    return format_date(value) if value else ""


@register.filter
def vn_formal(value):
    return formal_date(value) if value else ""


@register.filter
def label(obj):
    """Level or position-type name in the active language."""
    return obj.label() if hasattr(obj, "label") else str(obj)


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs):
    """The current query string with some parameters replaced (for pagination links)."""
    params = context["request"].GET.copy()
    for k, v in kwargs.items():
        if v in (None, ""):
            params.pop(k, None)
        else:
            params[k] = v
    return "?" + params.urlencode() if params else "?"
