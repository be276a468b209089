"""Forms parse and validate input; the services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tickets.models import Severity, Status, User

SEVERITY_DEFINITIONS = {
    Severity.BLOCKING: _(
        "The product or one of its technical components has stopped or is unavailable, "
        "important features are unavailable, or an important function gives a wrong result."
    ),
    Severity.MAJOR: _(
        "Not blocking, but the product returns wrong data, the use of features is impaired, "
        "a functional result is wrong, or a feature is strongly degraded (design aside)."
    ),
    Severity.MINOR: _(
        "Anything else: ergonomic, graphic or editorial comfort is degraded without "
        "significantly impairing a feature."
    ),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class SeverityRadio(forms.RadioSelect):
    """Radio buttons that show each severity's definition from the SLA beside its name."""

    option_template_name = "includes/_severity_option.html"

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["definition"] = SEVERITY_DEFINITIONS.get(option["value"], "")
        return option


class TicketCreateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Severity.choices, widget=SeverityRadio
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What happened, what you expected, and how to reproduce it."),
    )
    attachments = MultipleFileField(label=_("Attachments"))


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}))
    internal = forms.BooleanField(
        label=_("Internal note (not shown to the customer)"), required=False
    )
    phone_call = forms.BooleanField(
        label=_("This records a phone call with the customer"), required=False
    )
    attachments = MultipleFileField(label=_("Attachments"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class AgentChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]  # of User
    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        return obj.get_full_name() or obj.get_username()


class AssignForm(forms.Form):
    assignee = AgentChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args: Any, agents: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, AgentChoiceField)
        field.queryset = agents


class ReclassifyForm(forms.Form):
    severity = forms.ChoiceField(label=_("New severity"), choices=Severity.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500)
