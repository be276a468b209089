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


# What the first bytes of a file of each type are: a file whose bytes say otherwise is refused
# (a text file named .png, a program named .pdf). Office's older formats share one container;
# its newer ones, OpenDocument's and zip's are zip archives.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".pdf": (b"%PDF-",),
    ".zip": (b"PK\x03\x04", b"PK\x05\x06"),
    ".gz": (b"\x1f\x8b",),
    ".tgz": (b"\x1f\x8b",),
    ".7z": (b"7z\xbc\xaf\x27\x1c",),
    ".rtf": (b"{\\rtf",),
    **dict.fromkeys((".doc", ".xls", ".ppt"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    **dict.fromkeys((".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"), (b"PK\x03\x04",)),
}
TEXT_EXTENSIONS = frozenset({".txt", ".log", ".csv", ".json", ".xml", ".eml", ".har", ".md"})
TEXT_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 text has NUL bytes, and says so first
HEAD_BYTES = 8192
# The types a page shows rather than lists (the bytes having said they are what they claim).
PREVIEW_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
}


# Other names mail programs give the shown types.
TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-pdf": "application/pdf",
}


def content_matches(head: bytes, extension: str) -> bool:
    """Whether a file's first bytes are those of the type its name says."""
    if extension == ".webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if extension == ".pdf":  # readers accept a little before the header; so do we
        return b"%PDF-" in head[:1024]
    if extension in TEXT_EXTENSIONS:
        return head.startswith(TEXT_BOMS) or b"\x00" not in head
    return head.startswith(SIGNATURES.get(extension, (b"",)))


def file_head(upload: File[bytes]) -> bytes:
    """The first bytes of an upload, the file left at its start for whoever reads it next."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    return head if isinstance(head, bytes) else head.encode()


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
        if not content_matches(file_head(upload), extension):
            raise AttachmentRejected(
                _("%(name)s is not a %(type)s file: its content says otherwise.")
                % {"name": name, "type": extension[1:].upper()},
                field="attachments",
            )


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
            content_type=stored_type(upload, name, mail.content_type if mail else ""),
            size=upload.size or 0,
            content_id=mail.content_id[:255] if mail else "",
            inline=mail.inline if mail else False,
        )
        attachment.file.save(attachment.key, upload, save=False)
        stored.append(attachment.file.name)
        attachment.save()


def stored_type(upload: File[bytes], name: str, declared: str) -> str:
    """The type a file is served as: the one a mail declared, else its name's. A file that
    would be shown (an image, a PDF) is so typed only when its bytes agree with its name and
    the mail's word: a mail's file is kept whatever it holds, but as plain bytes."""
    guessed = mimetypes.guess_type(name)[0] or ""
    kind = (declared[:120] or guessed or "application/octet-stream").lower()
    extension = PurePath(name).suffix.lower() or mimetypes.guess_extension(kind) or ""
    shown = (
        TYPE_ALIASES.get(kind, kind) in PREVIEW_TYPES.values() or guessed in PREVIEW_TYPES.values()
    )
    if not shown:
        return kind
    named = PREVIEW_TYPES.get(extension)
    if named == TYPE_ALIASES.get(kind, kind) and content_matches(file_head(upload), extension):
        return named  # "image/jpg", "application/x-pdf": one name each
    return "application/octet-stream"


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
