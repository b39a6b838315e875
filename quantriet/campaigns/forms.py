"""Forms of the campaign pages. They only parse and resolve input; the services check the
rules and the rights. Units and people are typed as codes and resolved inside the user's
scope, so a forged code outside it is just 'not found'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from quantriet.campaigns.models import RoutingRule
from quantriet.org.forms import UnitCodeField, VNDateField
from quantriet.org.models import Person, PositionType, Unit, UnitLevel

RESERVED_SLUGS = frozenset({"mine"})  # addresses under /campaigns/ that are not campaigns

NUMBER = forms.TextInput(attrs={"inputmode": "numeric"})


class MemberCodeField(forms.CharField):
    """A member code resolved inside a queryset of people (the user's view_people scope)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)
        self.queryset = Person.objects.none()

    def clean(self, value):
        code = super().clean(value).strip()
        person = self.queryset.select_related("unit").filter(member_code__iexact=code).first()
        if person is None:
            raise forms.ValidationError(
                _("No member with code “%(code)s” in your scope."), params={"code": code}
            )
        return person


class LabelledChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label()


class LabelledMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.label()


class CampaignForm(forms.Form):
    owner_unit = UnitCodeField(label=_("Code of the organising unit"),
                               help_text=_("Participants come from this unit's subtree."))
    slug = forms.SlugField(label=_("Short name (used in the address)"), max_length=60,
                           help_text=_("Letters, digits and hyphens, e.g. nq-dai-hoi-xiii."))
    title = forms.CharField(label=_("Title"), max_length=300)
    resolution = forms.CharField(label=_("Resolution studied"), max_length=300, required=False)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    conference_date = VNDateField(label=_("Conference date"), required=False)
    report_deadline = VNDateField(label=_("Report deadline"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = Unit.objects.visible_to(user, "change")

    def clean_slug(self):
        slug = self.cleaned_data["slug"].lower()
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("“%(slug)s” is reserved; choose another short name."),
                                        params={"slug": slug})
        return slug


class CampaignEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    resolution = forms.CharField(label=_("Resolution studied"), max_length=300, required=False)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    conference_date = VNDateField(label=_("Conference date"), required=False)
    report_deadline = VNDateField(label=_("Report deadline"), required=False)


class TopicForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=400)
    summary = forms.CharField(label=_("Summary"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    presenter = forms.CharField(label=_("Presenter"), max_length=200, required=False)


class MaterialForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("link", _("link")),
                                                        ("video", _("video"))],
                             required=False)
    url = forms.URLField(label=_("Address (link or video)"), required=False,
                         assume_scheme="https")
    upload = forms.FileField(label=_("or a file"), required=False)


FULL_TIME_CHOICES = [
    ("", _("either")),
    ("yes", _("full-time only")),
    ("no", _("part-time only")),
]


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    position_types = LabelledMultipleChoiceField(
        label=_("Positions"), queryset=PositionType.objects.all(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Any of these positions; none selected means any position."),
    )
    unit_levels = LabelledMultipleChoiceField(
        label=_("Levels of the unit where the position is held"),
        queryset=UnitLevel.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None selected means any level."),
    )
    full_time = forms.TypedChoiceField(
        label=_("Full-time"), choices=FULL_TIME_CHOICES, required=False,
        coerce=lambda v: v == "yes", empty_value=None,
    )
    min_members = forms.IntegerField(label=_("The unit has at least … members"),
                                     min_value=0, required=False, widget=NUMBER)
    max_members = forms.IntegerField(label=_("The unit has at most … members"),
                                     min_value=0, required=False, widget=NUMBER)
    subtree = UnitCodeField(
        label=_("Only within the subtree of (unit code)"), required=False,
        help_text=_("Empty: the whole organising unit."),
    )

    def __init__(self, *args, user, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subtree"].queryset = Unit.objects.visible_to(user, "change").subtree(
            campaign.owner_unit.path)

    @classmethod
    def initial_for(cls, rule):
        return {
            "name": rule.name,
            "position_types": list(rule.position_types.all()),
            "unit_levels": list(rule.unit_levels.all()),
            "full_time": "" if rule.full_time is None else ("yes" if rule.full_time else "no"),
            "min_members": rule.min_members,
            "max_members": rule.max_members,
            "subtree": rule.subtree.code if rule.subtree else "",
        }


class RoutingForm(forms.Form):
    level = LabelledChoiceField(label=_("Position held at a unit of level"),
                                queryset=UnitLevel.objects.all())
    target = forms.ChoiceField(label=_("Reports go to"), choices=RoutingRule.Target.choices)
    ancestor_level = LabelledChoiceField(
        label=_("Ancestor level (for “its ancestor at the level”)"),
        queryset=UnitLevel.objects.all(), required=False,
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=250)


class MemberForm(forms.Form):
    """A person by member code (within the user's view_people scope) and the reason."""

    member_code = MemberCodeField(label=_("Member code"))
    reason = forms.CharField(label=_("Reason"), max_length=250)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_code"].queryset = Person.objects.visible_to(user, "view_people")
