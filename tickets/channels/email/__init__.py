"""The email channel: parsing, the ingest service behind the pipe, the webhook and IMAP, and the
TLS and SMTP helpers of mail."""
