"""Attachment downloads, always through the access check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from tickets import access
from tickets.models import Attachment
from tickets.views.common import current_user


@login_required
def attachment_download(request: HttpRequest, key: str) -> FileResponse:
    try:
        attachment = access.visible_attachments(current_user(request)).get(key=key)
    except Attachment.DoesNotExist:
        raise Http404 from None
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
