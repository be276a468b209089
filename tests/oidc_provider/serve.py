"""Start the test identity provider: migrate, create its users and Pacte's client, then serve
on the given port until killed. Arguments come as one JSON document on standard input:
{"port": …, "redirect_uri": …, "client_id": …, "client_secret": …, "users": [[username,
email, password], …]}."""

import json
import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> None:
    config = json.loads(sys.stdin.read())
    call_command("migrate", verbosity=0)
    for username, email, password in config["users"]:
        User.objects.create_user(username=username, email=email, password=password)
    Application.objects.create(
        name="Pacte",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=config["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        hash_client_secret=False,
    )
    server = make_server("127.0.0.1", config["port"], get_wsgi_application(), handler_class=Quiet)
    print("ready", flush=True)
    server.serve_forever()


main()
