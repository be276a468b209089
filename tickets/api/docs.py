"""The API's documentation, as its reader may use it: one of Pacte's pages, with Swagger UI
inside to try the calls, and the schema of what the reader may call (tickets.api.schema) in the
reader's language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from drf_spectacular.plumbing import set_query_parameters
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.request import Request


class ApiDocs(SpectacularSwaggerView):
    template_name = "api/docs.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        response = super().get(request, *args, **kwargs)
        response.data["token_days"] = settings.PACTE_API_TOKEN_DAYS
        # drf-spectacular loosens this for OAuth2 pop-ups Pacte has none of: keep the site's.
        del response.headers["Cross-Origin-Opener-Policy"]
        return response

    def _get_schema_url(self, request: Request) -> str:
        # The schema in the page's language, whatever that request's own negotiation says.
        return set_query_parameters(
            url=super()._get_schema_url(request), lang=translation.get_language()
        )
