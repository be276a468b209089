"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit in its own
process on loopback, with its own database, users and signing key (tests/sso.py starts it)."""
