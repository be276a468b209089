"""The API's schema lists the endpoints its caller may call: an anonymous reader sees a
customer's (the documentation page is tickets/api/docs.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.generators import SchemaGenerator
from rest_framework.permissions import IsAuthenticated


class ReaderSchemaGenerator(SchemaGenerator):
    """Lists an endpoint when its caller passes its permissions (tickets.api.permissions);
    being signed in is not asked, so that a stranger reads what a customer may do."""

    def has_view_permissions(self, path: str, method: str, view: Any) -> bool:
        request = view.request
        if request is None:  # the schema built from the command line: everything
            return True
        return all(
            permission.has_permission(request, view)
            for permission in view.get_permissions()
            if not isinstance(permission, IsAuthenticated)
        )
