"""The account mails as their reader gets them: the outbox sent, the one mail read."""

from __future__ import annotations

import re

from django.core import mail

from tickets.tasks import mail_sweep_task

RESET_LINK = r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)"
INVITATION_LINK = r"https?://[^/\s]+(/accounts/invitation/\S+/)"


def mailed_link(pattern: str) -> str:
    """Send what waits in the outbox; the path of the link the one mail carries."""
    mail_sweep_task()
    (message,) = mail.outbox
    mail.outbox.clear()
    found = re.search(pattern, str(message.body))
    assert found, message.body
    return found.group(1)
