"""The REST API: one view per action, input parsed by a nested serializer, work done by services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from tickets import access, services
from tickets.accounts.tokens import api_token_create
from tickets.api.errors import error_responses
from tickets.api.filters import TicketFilter
from tickets.api.permissions import WorksTickets
from tickets.api.serializers import MessageOutput, TicketDetailOutput, TicketOutput
from tickets.exceptions import PermissionDeniedError
from tickets.models import Attachment, Channel, Message, Severity, Status, Ticket, User
from tickets.views.files import attachment_response


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated is the default permission
    return user


# The documentation's sections, named in the reader's language (lazy: read as the schema is
# written; their order is SPECTACULAR_SETTINGS["TAGS"]).
TICKETS: Any = gettext_lazy("Tickets")
TOKENS: Any = gettext_lazy("Tokens")
FILES: Any = gettext_lazy("Files")


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(
        help_text=gettext_lazy("For the header `Authorization: Token …`.")
    )
    expires_at = serializers.DateTimeField(help_text=gettext_lazy("When the token stops working."))


class TokenApi(ObtainAuthToken):
    """POST username and password, get a token for the Authorization header (customers; it
    expires after PACTE_API_TOKEN_DAYS). Staff create theirs on the API tokens page, from a
    session that passed their second factor: a password alone gets them no token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        tags=[TOKENS],
        summary=gettext_lazy("Get a token with a password"),
        description=gettext_lazy(
            "For customers: send your username and password, get a token for the header "
            "`Authorization: Token …`. It expires after a number of days Pacte sets; your "
            "API tokens page lists and revokes it. Support staff create their tokens on that "
            "page, after their second factor: a password alone gets them none."
        ),
        request=ObtainAuthToken.serializer_class,
        responses={200: TokenOutput, **error_responses(400, 403, 429)},
    )
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        # Refusals are answered, not raised: a raised error would roll the request's
        # transaction back, and with it the wrong password django-axes has just counted.
        serializer = self.get_serializer(data=request.data)
        if serializer.is_valid():
            user = serializer.validated_data["user"]
            if not access.must_pass_second_factor(user) and not access.customer_may_sign_in(user):
                return Response(
                    {"detail": _("This account cannot sign in: no support contract.")},
                    status=status.HTTP_403_FORBIDDEN,
                )
            if access.must_pass_second_factor(user):
                return Response(
                    {
                        "detail": _(
                            "Staff create API tokens on their API tokens page, after their "
                            "second factor."
                        )
                    },
                    status=status.HTTP_403_FORBIDDEN,
                )
            token, key = api_token_create(
                user=user,
                name=_("Signed in to the API with a password"),
                days=settings.PACTE_API_TOKEN_DAYS,
                now=timezone.now(),
                make_room=True,
            )
            return Response(TokenOutput({"token": key, "expires_at": token.expires_at}).data)
        if getattr(request, "axes_locked_out", False):  # set by django-axes' backend
            return Response(
                {
                    "detail": _(
                        "Too many wrong passwords: signing in to this account from here is paused."
                    )
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)


# A change to a ticket: the ticket as it is now; refused input or an illegal change (400), a
# ticket the caller sees but may not change (403), one they cannot see (404).
ACTION_RESPONSES = {200: TicketDetailOutput, **error_responses(400, 401, 403, 404)}


class TicketPages(CursorPagination):
    """Newest first, a page at a time: ``next`` and ``previous`` are links with a cursor, and
    no count of every matching ticket is made, so a page costs the same at a thousand
    tickets as at a million (bench/agent_queue.py; docs/PERFORMANCE.md)."""

    page_size = 25
    ordering = ("-received_at", "-id")


@extend_schema_view(
    # 400: a filter's value is not one of its choices; 404: a cursor that is not one of ours.
    get=extend_schema(
        tags=[TICKETS],
        summary=gettext_lazy("List the tickets you may see"),
        description=gettext_lazy(
            "Newest first, 25 a page: follow `next` and `previous` (links with a cursor). "
            "A customer sees their own tickets, an organization admin the organization's, "
            "support staff those of their desks."
        ),
        responses={200: TicketOutput(many=True), **error_responses(400, 401, 404)},
    )
)
class TicketsApi(generics.ListAPIView):
    """GET: tickets visible to the caller, newest first, filtered by status, severity, desk, …
    POST: open a ticket (a contact for themselves; an agent on behalf of a contact)."""

    serializer_class = TicketOutput
    filterset_class = TicketFilter
    pagination_class = TicketPages
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Ticket]:
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request user
            return Ticket.objects.none()
        return access.visible_tickets(_user(self.request)).select_related(
            "organization", "requester", "desk", "assignee"
        )  # ordered by its pages

    class TicketsInput(serializers.Serializer):
        subject = serializers.CharField(max_length=200)
        description = serializers.CharField()
        severity = serializers.ChoiceField(choices=Severity.choices)
        requester = serializers.EmailField(
            required=False,
            help_text=gettext_lazy("Support staff only: the contact the ticket is for."),
        )
        channel = serializers.ChoiceField(
            choices=Channel.choices,
            required=False,
            help_text=gettext_lazy(
                "Support staff only: how the incident was reported (default api)."
            ),
        )
        attachments = serializers.ListField(child=serializers.FileField(), required=False)

    @extend_schema(
        tags=[TICKETS],
        summary=gettext_lazy("Open a ticket"),
        description=gettext_lazy(
            "A customer opens one for themselves, support staff on behalf of a contact "
            "(`requester`). The promised deadlines start at once. Send files as "
            "multipart/form-data."
        ),
        request=TicketsInput,
        responses={201: TicketDetailOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        user = _user(request)
        data = self.TicketsInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ticket = services.ticket_open_by(
            opener=user,
            subject=values["subject"],
            description=values["description"],
            severity=values["severity"],
            requester_email=values.get("requester", ""),
            channel=values.get("channel", ""),
            files=values.get("attachments", []),
        )
        ticket = access.ticket_or_404(user, ticket.reference)
        return Response(TicketDetailOutput(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailApi(APIView):
    @extend_schema(
        tags=[TICKETS],
        summary=gettext_lazy("Read a ticket and its deadlines"),
        description=gettext_lazy(
            "The ticket with its clocks: each promise (acknowledgement, correction), when it "
            "is due and whether it was kept."
        ),
        responses={200: TicketDetailOutput, **error_responses(401, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = access.ticket_or_404(_user(request), reference)
        return Response(TicketDetailOutput(ticket).data)


class TicketMessagesApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class TicketMessagesInput(serializers.Serializer):
        body = serializers.CharField()
        internal = serializers.BooleanField(default=False)
        attachments = serializers.ListField(child=serializers.FileField(), required=False)

    @extend_schema(
        tags=[TICKETS],
        summary=gettext_lazy("Read a ticket's messages"),
        description=gettext_lazy(
            "Oldest first. Customers read the public messages; support staff read the "
            "internal notes too."
        ),
        responses={200: MessageOutput(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        user = _user(request)
        ticket = access.ticket_or_404(user, reference)
        messages = (
            access.visible_messages(user, ticket)
            .select_related("author", "author_contact")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        )
        return Response(MessageOutput(messages, many=True).data)

    @extend_schema(
        tags=[TICKETS],
        summary=gettext_lazy("Write a message"),
        description=gettext_lazy(
            "A reply the other side reads and is mailed. Support staff may set `internal` "
            "for a note customers never see. Send files as multipart/form-data."
        ),
        request=TicketMessagesInput,
        responses={201: MessageOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, reference: str) -> Response:
        user = _user(request)
        ticket = access.ticket_or_404(user, reference)
        data = self.TicketMessagesInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.ticket_reply(
            ticket=ticket,
            author=user,
            body=data.validated_data["body"],
            internal=data.validated_data["internal"],
            channel=Channel.API,
            files=data.validated_data.get("attachments", []),
        )
        message = Message.objects.select_related("author", "author_contact").get(pk=message.pk)
        return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)


class TicketActionApi(APIView):
    """A change to one ticket: the caller must see it (404), the input is parsed by
    ``input_class`` (400), `act` calls the service; the answer is the ticket as it is now."""

    input_class: type[serializers.Serializer] | None = None

    def post(self, request: Request, reference: str) -> Response:
        user = _user(request)
        ticket = access.ticket_or_404(user, reference)
        values: dict[str, Any] = {}
        if self.input_class is not None:
            data = self.input_class(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
        self.act(user, ticket, values)
        return Response(TicketDetailOutput(access.ticket_or_404(user, reference)).data)

    def act(self, user: User, ticket: Ticket, values: dict[str, Any]) -> None:
        raise NotImplementedError


def _action(
    input_class: type[serializers.Serializer] | None, summary: Any, description: Any
) -> Any:
    """The schema of a ticket action: its input, and the ticket or a refusal as the answer."""
    return extend_schema_view(
        post=extend_schema(
            tags=[TICKETS],
            summary=summary,
            description=description,
            request=input_class,
            responses=ACTION_RESPONSES,
        )
    )


class TicketStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    note = serializers.CharField(max_length=500, required=False, default="")
    pause_reason = serializers.CharField(
        max_length=50, required=False, default="",
        help_text=gettext_lazy(
            "For on_hold: the slug of one of the ticket's policy's pause reasons "
            "(third_party, customer_request…), which decides the deadlines that pause."
        ),
    )  # fmt: skip


@_action(
    TicketStatusInput,
    gettext_lazy("Change the status"),
    gettext_lazy(
        "Customers may close their own ticket; support staff move it through its statuses "
        "(a change the workflow does not allow is refused)."
    ),
)
class TicketStatusApi(TicketActionApi):
    input_class = TicketStatusInput

    def act(self, user: User, ticket: Ticket, values: dict[str, Any]) -> None:
        services.ticket_change_status(ticket=ticket, actor=user, **values)


@_action(
    None,
    gettext_lazy("Acknowledge (support staff)"),
    gettext_lazy("Keeps the acknowledgement promise: its clock stops."),
)
class TicketAcknowledgeApi(TicketActionApi):
    permission_classes = [IsAuthenticated, WorksTickets]

    def act(self, user: User, ticket: Ticket, values: dict[str, Any]) -> None:
        services.ticket_acknowledge(ticket=ticket, actor=user)


class TicketAssignInput(serializers.Serializer):
    assignee = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("A username, or null.")
    )


@_action(
    TicketAssignInput,
    gettext_lazy("Assign (support staff)"),
    gettext_lazy("To an agent of the ticket's desk by username, or to nobody with null."),
)
class TicketAssignApi(TicketActionApi):
    permission_classes = [IsAuthenticated, WorksTickets]
    input_class = TicketAssignInput

    def act(self, user: User, ticket: Ticket, values: dict[str, Any]) -> None:
        if not access.can_work(user, ticket):
            raise PermissionDeniedError(_("You may not assign this ticket."))
        username = values["assignee"]
        assignee = None
        if username is not None:
            assignee = User.objects.filter(username=username).first()
            if assignee is None:
                raise serializers.ValidationError({"assignee": ["No such user."]})
        services.ticket_assign(ticket=ticket, actor=user, assignee=assignee)


class TicketReclassifyInput(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)
    reason = serializers.CharField(max_length=500)


@_action(
    TicketReclassifyInput,
    gettext_lazy("Reclassify (support staff)"),
    gettext_lazy(
        "A new severity, with a reason the customer reads; the deadlines are counted again."
    ),
)
class TicketReclassifyApi(TicketActionApi):
    permission_classes = [IsAuthenticated, WorksTickets]
    input_class = TicketReclassifyInput

    def act(self, user: User, ticket: Ticket, values: dict[str, Any]) -> None:
        services.ticket_reclassify(ticket=ticket, actor=user, **values)


class AttachmentDownloadApi(APIView):
    @extend_schema(
        tags=[FILES],
        summary=gettext_lazy("Download an attachment"),
        description=gettext_lazy(
            "By the `url` a message lists for it; sent as a download, never shown inline."
        ),
        responses={(200, "application/octet-stream"): bytes, **error_responses(401, 404)},
    )
    def get(self, request: Request, key: str) -> FileResponse:
        try:
            attachment = access.visible_attachments(_user(request)).get(key=key)
        except Attachment.DoesNotExist:
            raise Http404 from None
        return attachment_response(attachment)
