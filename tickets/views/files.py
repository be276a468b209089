"""Attachment downloads, always through the access check."""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.views.decorators.clickjacking import xframe_options_sameorigin

from tickets import access
from tickets.models import Attachment
from tickets.services.attachments import HEAD_BYTES, PREVIEW_TYPES, content_matches
from tickets.views.common import current_user

# The extension whose bytes a shown type must have ("image/jpeg": ".jpg").
PREVIEW_EXTENSIONS = {kind: ext for ext, kind in reversed(PREVIEW_TYPES.items())}

Response = TypeVar("Response", bound=HttpResponseBase)


def attachment_response(attachment: Attachment) -> FileResponse:
    """A stored file as a download that no browser runs: saved, never shown inline; its type not
    guessed from its bytes; and, opened anyway, sandboxed with nothing allowed (no script, no
    same origin). The pages and the API answer with this one response."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    return sandboxed(response)


def sandboxed(response: Response) -> Response:
    """A download from a customer or a mail (a file, a raw message): its type not guessed from
    its bytes and, opened in the browser anyway, sandboxed with nothing allowed."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@xframe_options_sameorigin
def attachment_preview(request: HttpRequest, key: str) -> FileResponse:
    """An image or a PDF shown in the page (their bytes were checked against their type when
    stored, tickets.services.attachments.stored_type); anything else is only downloaded. An
    image is sandboxed as a download is; a PDF is framed by Pacte's own pages only, and runs
    nothing but the browser's viewer, which a sandbox would refuse."""
    try:
        attachment = access.visible_attachments(current_user(request)).get(
            key=key, content_type__in=PREVIEW_TYPES.values()
        )
    except Attachment.DoesNotExist:
        raise Http404 from None
    extension = PREVIEW_EXTENSIONS[attachment.content_type]
    with attachment.file.open("rb") as stored:
        if not content_matches(stored.read(HEAD_BYTES), extension):
            raise Http404  # stored before its bytes were checked, and not what it says
    response = FileResponse(
        attachment.file.open("rb"),
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    if attachment.content_type == "application/pdf":
        response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    else:
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def attachment_download(request: HttpRequest, key: str) -> FileResponse:
    try:
        attachment = access.visible_attachments(current_user(request)).get(key=key)
    except Attachment.DoesNotExist:
        raise Http404 from None
    return attachment_response(attachment)
