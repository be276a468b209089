"""The one DRF exception handler: domain errors become clear 4xx answers; and the shapes of
those answers, for the OpenAPI schema (``error_responses``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sla.exceptions import SlaError
from tickets.exceptions import PermissionDeniedError, TicketError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PermissionDeniedError):
        return Response({"detail": exc.message}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, TicketError | SlaError):  # each app's domain errors, answered alike
        body: dict[str, Any] = {"detail": exc.message}
        if exc.field:
            body[exc.field] = [exc.message]
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField(help_text=_("Why the request was refused."))


# A refused input: ``detail`` for a rule of the desk (an illegal status change…), and one list
# of messages per field that is wrong, named by the field (``non_field_errors`` for the input
# as a whole). Comments, not a docstring: the schema shows its readers the help texts only.
class ValidationErrorOutput(serializers.Serializer):
    detail = serializers.CharField(required=False, help_text=_("Why, when a rule refused it."))
    non_field_errors = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("What is wrong with the input as a whole; each wrong field has its list."),
    )


_ERRORS: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(
        ValidationErrorOutput, description=_("Refused input: what is wrong, field by field.")
    ),
    401: OpenApiResponse(
        ErrorOutput, description=_("No valid token (header `Authorization: Token …`).")
    ),
    403: OpenApiResponse(ErrorOutput, description=_("You may not do this (to this ticket).")),
    404: OpenApiResponse(
        ErrorOutput, description=_("No such ticket or file, or one you may not see.")
    ),
    429: OpenApiResponse(
        ErrorOutput, description=_("Too many requests, or too many wrong passwords: wait.")
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented refusals of an operation, for ``extend_schema(responses=…)``."""
    return {code: _ERRORS[code] for code in codes}
