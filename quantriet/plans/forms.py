from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from quantriet.campaigns.models import Campaign, Topic
from quantriet.org.forms import VNDateField
from quantriet.org.models import UnitLevel
from quantriet.plans.models import Measure, PlanReview, PlanSettings


class MeasureForm(forms.Form):
    title = forms.CharField(label=_("Measure"), max_length=500,
                            widget=forms.Textarea(attrs={"rows": 2}))
    topic = forms.ModelChoiceField(label=_("Topic served"), queryset=Topic.objects.none(),
                                   required=False, empty_label=_("— the whole resolution —"))
    owner = forms.CharField(label=_("Responsible"), max_length=200,
                            help_text=_("A person, a committee or a department of the unit."))
    due_on = VNDateField(label=_("Due date"))
    target = forms.CharField(label=_("Measurable target"), max_length=500,
                             help_text=_("For example: all members informed; 2 "
                                         "dialogues held."))

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.filter(campaign=campaign)  # type: ignore[attr-defined]


class SummaryForm(forms.Form):
    summary = forms.CharField(label=_("Summary"), required=False, max_length=20_000,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("The situation of the unit and the aims of the "
                                          "plan, in a few lines."))


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=PlanReview.Outcome.choices,
                                widget=forms.RadioSelect)
    comments = forms.CharField(label=_("Comments"), required=False,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("Required when the plan is returned."))


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(label=_("Follow-up"), choices=Measure.Status.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Attach a document"))


class LevelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.label()


class SettingsForm(forms.Form):
    required = forms.ChoiceField(label=_("Units that must produce a plan"),
                                 choices=PlanSettings.Required.choices,
                                 widget=forms.RadioSelect)
    highest_level = LevelChoiceField(label=_("From the level"), required=False,
                                     queryset=UnitLevel.objects.all(),
                                     help_text=_("Usually the level of the bridge points."))
    lowest_level = LevelChoiceField(label=_("Down to the level"), required=False,
                                    queryset=UnitLevel.objects.all())
    due_on = VNDateField(label=_("Plans due"), required=False)
