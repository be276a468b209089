"""Attachment downloads, always through the access check."""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase

from tickets import access
from tickets.models import Attachment
from tickets.views.common import current_user

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
def attachment_download(request: HttpRequest, key: str) -> FileResponse:
    try:
        attachment = access.visible_attachments(current_user(request)).get(key=key)
    except Attachment.DoesNotExist:
        raise Http404 from None
    return attachment_response(attachment)
