"""What a received mail gives its ticket: the message text (a new ticket's whole text, a
reply's new part with the quoted history and signature folded), its files within the limits
(the others listed in the text, not stored), what goes with them (`services.MailContent`),
and a new ticket's severity from a tag in the subject ("[blocking]", "[majeur]"…)."""

from __future__ import annotations

import re

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tickets import services
from tickets.channels.email.parsing import ParsedMail
from tickets.models import Severity

SEVERITY_TAGS = {
    "blocking": Severity.BLOCKING,
    "bloquant": Severity.BLOCKING,
    "bloquante": Severity.BLOCKING,
    "major": Severity.MAJOR,
    "majeur": Severity.MAJOR,
    "majeure": Severity.MAJOR,
    "minor": Severity.MINOR,
    "mineur": Severity.MINOR,
    "mineure": Severity.MINOR,
}
SEVERITY_TAG_RE = re.compile(r"\[(" + "|".join(SEVERITY_TAGS) + r")\]", re.IGNORECASE)


def mail_content(parsed: ParsedMail, *, whole: bool) -> tuple[str, services.MailContent]:
    """The message text and what goes with it; files beyond the limits are listed, not kept."""
    files: list[services.MailFile] = []
    skipped: list[str] = []
    for attachment in parsed.attachments:
        size = len(attachment.content)
        if size == 0:
            continue
        if size > settings.PACTE_MAIL_ATTACHMENT_MAX_BYTES:
            skipped.append(
                _("%(name)s (%(size)s, over the %(limit)s limit)")
                % {
                    "name": attachment.filename,
                    "size": filesizeformat(size),
                    "limit": filesizeformat(settings.PACTE_MAIL_ATTACHMENT_MAX_BYTES),
                }
            )
            continue
        if len(files) >= settings.PACTE_MAIL_ATTACHMENTS_PER_MESSAGE:
            skipped.append(_("%(name)s (too many files)") % {"name": attachment.filename})
            continue
        files.append(
            services.MailFile(
                attachment.content,
                name=attachment.filename,
                content_type=attachment.content_type,
                content_id=attachment.content_id,
                inline=attachment.inline,
            )
        )
    # A new ticket keeps all its text but the signature (a forward's history is the
    # incident); a reply shows what is new, with the quoted history and signature folded.
    if whole:
        body, quoted = parsed.text, parsed.signature
        if quoted and body.endswith(quoted):
            body = body[: -len(quoted)].strip()
    else:
        body, quoted = parsed.new_text, parsed.quoted
    if skipped:
        note = _("Not kept (the original mail has them): %(files)s") % {"files": "; ".join(skipped)}
        body = f"{body}\n\n[{note}]".strip()
    return body or _("(no text)"), services.MailContent(
        body_html=parsed.html,
        quoted=quoted,
        files=files,
        sender=parsed.sender,
        mail_id=parsed.message_id,
    )


def severity_tag(subject: str) -> str:
    """The severity a tag in the subject asks for, else "": the ticket's text decides
    (tickets.triage)."""
    match = SEVERITY_TAG_RE.search(subject)
    return SEVERITY_TAGS[match.group(1).lower()] if match else ""
