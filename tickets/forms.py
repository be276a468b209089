"""Forms parse and validate input; the services do the work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.forms.utils import flatatt
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from tickets.accounts.time_zones import time_zone_groups
from tickets.models import Article, CannedReply, Contact, Desk, Language, Severity, Status, User
from tickets.workflow import REPLY_THEN

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


class PlainSelect(forms.Select):
    """A select rendered in Python: the queue's filter and bulk bar hold a few hundred options
    (organizations, agents) and the template-per-option rendering cost more than the query
    (bench/agent_queue.py). Same markup as Django's select."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,  # Any: Django's renderer protocol, unused here
    ) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) in chosen else "", label)
                for key, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


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
    # While the customer types, htmx asks the FAQ for articles that may already answer it.
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "hx-get": reverse_lazy("faq:suggest"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#faq-suggestions",
                "hx-swap": "outerHTML",
                "autocomplete": "off",
            }
        ),
    )
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
    called_at = forms.DateTimeField(
        label=_("Time of the call"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("For a phone call: when it took place (default: now)."),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    # The newest message the agent's page showed: a reply sent after someone else wrote is held
    # once, so that its author reads what came in first (collision detection).
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    # Set by the button pressed: "Send and mark waiting on customer", "Send and mark resolved".
    then = forms.ChoiceField(
        choices=[("", ""), *((s.value, s.label) for s in REPLY_THEN)], required=False
    )

    def clean_called_at(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("called_at")
        return _recent_call(value) if value is not None else None


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    pause_reason = forms.CharField(
        label=_("Why on hold"), max_length=50, required=False,
        widget=forms.Select(choices=[("", "—")]),
        help_text=_("For “On hold”: the reason decides which deadlines pause."),
    )  # fmt: skip
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class AgentChoiceField(forms.ModelChoiceField):  # of User
    def label_from_instance(self, obj: User) -> str:
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
    # Set by the preview's "Confirm" button; without it the change is only previewed.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class MergeForm(forms.Form):
    target = forms.CharField(
        label=_("Merge into ticket"),
        max_length=20,
        help_text=_("The reference of the ticket that stays, e.g. PAC-000123."),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        help_text=_("For support staff, unless you share it."),
        # Beside the status form's note on the ticket page: an id of its own for its label.
        widget=forms.TextInput(attrs={"id": "id_merge_note"}),
    )
    share_note = forms.BooleanField(
        label=_("Share the note with the customer"),
        required=False,
        help_text=_(
            "The customer is told of the merge by mail in any case; shared, the note is in "
            "that mail and on their ticket."
        ),
    )


class CannedReplyForm(forms.ModelForm):  # of CannedReply
    class Meta:
        model = CannedReply
        fields = ["title", "body", "desk", "language"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args: Any, desks: QuerySet[Desk], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["desk"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = desks
        field.empty_label = _("Every desk")
        field.help_text = ""  # the empty choice says it
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [("", _("Any language")), *Language.choices]
        language.help_text = _("Offered on tickets whose customer reads this language.")


class ArticleForm(forms.ModelForm):  # of Article
    class Meta:
        model = Article
        fields = ["area", "title", "language", "body", "keywords", "published"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        assert isinstance(area, forms.ModelChoiceField)
        area.empty_label = _("Choose an area")


class TicketIdsField(forms.TypedMultipleChoiceField):
    """Ticket ids, without choices: any id is accepted here, and the view keeps only the
    tickets the user may change."""

    def valid_value(self, value: object) -> bool:
        return str(value).isdigit()


class BulkForm(forms.Form):
    """The queue's bulk bar: an assignee and/or a status for the selected tickets."""

    NOBODY = "none"

    tickets = TicketIdsField(
        coerce=int,
        error_messages={
            "required": _("Select at least one ticket."),
        },
    )
    assignee = forms.ChoiceField(label=_("Assign to"), required=False, widget=PlainSelect)
    status = forms.ChoiceField(
        label=_("Set status"),
        required=False,
        widget=PlainSelect,
        choices=[("", _("Keep the status")), *Status.choices],
    )

    def __init__(self, *args: Any, agents: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agents = {str(agent.pk): agent for agent in agents}
        assignee_field = self.fields["assignee"]
        assert isinstance(assignee_field, forms.ChoiceField)
        assignee_field.choices = [
            ("", _("Keep the assignee")),
            (self.NOBODY, _("Nobody")),
            *[(pk, a.get_full_name() or a.username) for pk, a in self.agents.items()],
        ]

    def clean_assignee(self) -> User | str | None:
        value = self.cleaned_data["assignee"]
        if value == self.NOBODY:
            return self.NOBODY
        return self.agents.get(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("assignee") and not data.get("status") and not self.errors:
            raise forms.ValidationError(_("Choose an assignee or a status."))
        return data


class ContactChoiceField(forms.ModelChoiceField):  # of Contact
    def label_from_instance(self, obj: Contact) -> str:
        return f"{obj.name} <{obj.email}> · {obj.organization.name}"


class PhoneCallForm(forms.Form):
    """An agent logs a customer's call as a new ticket, on the contact's behalf."""

    contact = ContactChoiceField(
        label=_("Caller"), queryset=Contact.objects.none(), empty_label=_("Choose the caller")
    )
    called_at = forms.DateTimeField(
        label=_("Time of the call"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("The SLA clocks start at this time, in your time zone."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=[("", _("Let Pacte judge from the text")), *Severity.choices],
        required=False,
        widget=SeverityRadio,
        help_text=_(
            "Left to Pacte, a tag in the subject decides ([blocking]), else the suggestion "
            "from what the caller reported, else the default severity."
        ),
    )
    description = forms.CharField(
        label=_("What the caller reported"), widget=forms.Textarea(attrs={"rows": 6})
    )
    acknowledged = forms.BooleanField(
        label=_("I acknowledged the incident during the call"), required=False
    )

    def __init__(self, *args: Any, contacts: QuerySet[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        assert isinstance(field, ContactChoiceField)
        field.queryset = contacts

    def clean_called_at(self) -> datetime:
        return _recent_call(self.cleaned_data["called_at"])


def _recent_call(value: datetime) -> datetime:
    now = timezone.now()
    if value > now + timedelta(minutes=1):
        raise forms.ValidationError(_("The call cannot be in the future."))
    if value < now - timedelta(days=7):
        raise forms.ValidationError(_("Log calls within a week; older ones go in a note."))
    return min(value, now)


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("My browser's language")), ("en", "English"), ("fr", "Français")],
        help_text=_("Pages and the mail we send you."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Every date and time is shown in it."),
    )

    def __init__(self, *args: Any, current_zone: str, **kwargs: Any) -> None:
        """`current_zone`: the user's stored zone, kept as a choice even outside the list."""
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        groups = time_zone_groups(keep=current_zone, at=timezone.now())
        default = _("Default (%(zone)s)") % {"zone": settings.TIME_ZONE}
        field.choices = [
            ("", default),
            *[
                choice
                for group in groups
                for choice in ([(group.name, group.zones)] if group.name else group.zones)
            ],
        ]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What will use it, e.g. “monitoring script”."),
    )
    days = forms.TypedChoiceField(
        label=_("Valid for"),
        coerce=int,
        initial=90,
        choices=[
            (30, _("30 days")),
            (90, _("90 days")),
            (180, _("180 days")),
            (365, _("one year")),
        ],
    )
