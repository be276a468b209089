"""Files on messages: what may be attached, storing them with their message, and the
sweep of stored files that no attachment names any more."""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets.exceptions import AttachmentRejected
from tickets.models import ATTACHMENTS_DIR, Attachment, Message

# What customers may attach: documents, images, logs and archives. Nothing a browser would
# execute or render as a page (no HTML, SVG, scripts or executables).
ALLOWED_EXTENSIONS = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".pdf",
        ".txt",
        ".log",
        ".csv",
        ".json",
        ".xml",
        ".zip",
        ".gz",
        ".tgz",
        ".7z",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".odt",
        ".ods",
        ".odp",
        ".rtf",
        ".eml",
        ".har",
        ".md",
    }
)


def validate_files(files: Sequence[File[bytes]]) -> None:
    if len(files) > settings.PACTE_ATTACHMENTS_PER_MESSAGE:
        limit = settings.PACTE_ATTACHMENTS_PER_MESSAGE
        raise AttachmentRejected(
            ngettext(
                "At most %(count)d attachment per message.",
                "At most %(count)d attachments per message.",
                limit,
            )
            % {"count": limit},
            field="attachments",
        )
    for upload in files:
        name = PurePath(upload.name or "").name
        extension = PurePath(name).suffix.lower()
        if extension not in ALLOWED_EXTENSIONS:
            raise AttachmentRejected(
                _("%(name)s: files of this type are not accepted. Accepted: %(types)s.")
                % {"name": name, "types": ", ".join(sorted(ALLOWED_EXTENSIONS))},
                field="attachments",
            )
        if upload.size is None or upload.size > settings.PACTE_ATTACHMENT_MAX_BYTES:
            raise AttachmentRejected(
                _("%(name)s is too large (%(size)s); the limit is %(limit)s.")
                % {
                    "name": name,
                    "size": filesizeformat(upload.size or 0),
                    "limit": filesizeformat(settings.PACTE_ATTACHMENT_MAX_BYTES),
                },
                field="attachments",
            )
        if upload.size == 0:
            raise AttachmentRejected(_("%(name)s is empty.") % {"name": name}, field="attachments")


class MailFile(ContentFile):  # of bytes (ContentFile takes no type argument at runtime)
    """A file received by mail: its declared type, and its Content-ID if shown inline."""

    def __init__(
        self, content: bytes, *, name: str, content_type: str, content_id: str = "", inline: bool
    ) -> None:
        super().__init__(content, name=name)
        self.content_type = content_type
        self.content_id = content_id
        self.inline = inline


@contextmanager
def files_removed_on_failure() -> Iterator[list[str]]:
    """Collects the names of stored files and deletes them if the write fails after all."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


def save_files(
    message: Message,
    files: Sequence[File[bytes]],
    stored: list[str],
) -> None:
    for upload in files:
        name = PurePath(upload.name or "file").name[:255]
        mail = upload if isinstance(upload, MailFile) else None
        attachment = Attachment(
            ticket_id=message.ticket_id,
            message=message,
            key=secrets.token_hex(16),
            filename=name,
            content_type=(mail.content_type if mail else "")[:120]
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream",
            size=upload.size or 0,
            content_id=mail.content_id[:255] if mail else "",
            inline=mail.inline if mail else False,
        )
        attachment.file.save(attachment.key, upload, save=False)
        stored.append(attachment.file.name)
        attachment.save()


# A stored file that no attachment row names is left alone this long: the write that stored
# it may still be about to commit.
ORPHAN_GRACE = timedelta(hours=24)


def attachments_sweep(*, now: datetime, grace: timedelta = ORPHAN_GRACE) -> int:
    """Delete the stored attachment files that no attachment names any more — a deleted
    ticket's or message's, or a write's that failed after storing them (a crash, or a
    request rolled back later) — once older than ``grace``; the number deleted. Through the
    storage API, so it works on any storage backend; one query for the names in use."""
    root = ATTACHMENTS_DIR
    if not default_storage.exists(root):
        return 0
    named = set(Attachment.objects.values_list("file", flat=True).iterator(chunk_size=10_000))
    deleted = 0
    for folder in default_storage.listdir(root)[0]:
        for name in default_storage.listdir(f"{root}/{folder}")[1]:
            path = f"{root}/{folder}/{name}"
            if path in named or now - default_storage.get_modified_time(path) < grace:
                continue
            default_storage.delete(path)
            deleted += 1
    return deleted
