"""The REST API: one view per action, input parsed by a nested serializer, work done by services."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from tickets import access, services
from tickets.api.errors import error_responses
from tickets.api.filters import TicketFilter
from tickets.api.serializers import MessageOutput, TicketDetailOutput, TicketOutput
from tickets.exceptions import PermissionDeniedError
from tickets.models import Attachment, Channel, Contact, Message, Severity, Status, Ticket, User
from tickets.views.files import attachment_response


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated is the default permission
    return user


class TokenApi(ObtainAuthToken):
    """POST username and password, get the token for the Authorization header."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        responses={200: ObtainAuthToken.serializer_class, **error_responses(400, 429)},
    )
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        # Refusals are answered, not raised: a raised error would roll the request's
        # transaction back, and with it the wrong password django-axes has just counted.
        serializer = self.get_serializer(data=request.data)
        if serializer.is_valid():
            token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
            return Response({"token": token.key})
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


@extend_schema_view(
    # 400: a filter's value is not one of its choices; 404: a page past the last one.
    get=extend_schema(responses={200: TicketOutput(many=True), **error_responses(400, 401, 404)})
)
class TicketsApi(generics.ListAPIView):
    """GET: tickets visible to the caller, newest first, filtered by status, severity, desk, …
    POST: open a ticket (a contact for themselves; an agent on behalf of a contact)."""

    serializer_class = TicketOutput
    filterset_class = TicketFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Ticket]:
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request user
            return Ticket.objects.none()
        return (
            access.visible_tickets(_user(self.request))
            .select_related("organization", "requester", "desk", "assignee")
            .order_by("-received_at", "-id")
        )

    class TicketsInput(serializers.Serializer):
        subject = serializers.CharField(max_length=200)
        description = serializers.CharField()
        severity = serializers.ChoiceField(choices=Severity.choices)
        requester = serializers.EmailField(
            required=False, help_text="Agents only: the contact the ticket is for."
        )
        channel = serializers.ChoiceField(
            choices=Channel.choices,
            required=False,
            help_text="Agents only: how the incident was reported (default api).",
        )
        attachments = serializers.ListField(child=serializers.FileField(), required=False)

    @extend_schema(
        request=TicketsInput,
        responses={201: TicketDetailOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        user = _user(request)
        data = self.TicketsInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if access.is_staff_member(user):
            requester = (
                Contact.objects.select_related("organization")
                .filter(email__iexact=values.get("requester", ""))
                .first()
            )
            desk = services.desk_to_open_on(opener=user, contact=requester) if requester else None
            if requester is None or desk is None:
                # A contact the agent does not serve does not exist for them.
                raise serializers.ValidationError({"requester": ["No contact has this address."]})
            channel = values.get("channel", Channel.API)
        else:
            contact = access.contact_of(user)
            if contact is None:
                raise PermissionDeniedError(_("Only contacts of a customer open tickets."))
            requester, channel, desk = contact, Channel.API, None
        ticket = services.ticket_create(
            requester=requester,
            subject=values["subject"],
            description=values["description"],
            severity=values["severity"],
            channel=channel,
            actor=user,
            files=values.get("attachments", []),
            desk=desk,
        )
        ticket = access.ticket_or_404(user, ticket.reference)
        return Response(TicketDetailOutput(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailApi(APIView):
    @extend_schema(responses={200: TicketDetailOutput, **error_responses(401, 404)})
    def get(self, request: Request, reference: str) -> Response:
        ticket = access.ticket_or_404(_user(request), reference)
        return Response(TicketDetailOutput(ticket).data)


class TicketMessagesApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class TicketMessagesInput(serializers.Serializer):
        body = serializers.CharField()
        internal = serializers.BooleanField(default=False)
        attachments = serializers.ListField(child=serializers.FileField(), required=False)

    @extend_schema(responses={200: MessageOutput(many=True), **error_responses(401, 404)})
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


class TicketStatusApi(APIView):
    class TicketStatusInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=Status.choices)
        note = serializers.CharField(max_length=500, required=False, default="")

    @extend_schema(request=TicketStatusInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, reference: str) -> Response:
        user = _user(request)
        ticket = access.ticket_or_404(user, reference)
        data = self.TicketStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.ticket_change_status(ticket=ticket, actor=user, **data.validated_data)
        return Response(TicketDetailOutput(access.ticket_or_404(user, reference)).data)


class TicketAcknowledgeApi(APIView):
    @extend_schema(request=None, responses=ACTION_RESPONSES)
    def post(self, request: Request, reference: str) -> Response:
        user = _user(request)
        ticket = access.ticket_or_404(user, reference)
        services.ticket_acknowledge(ticket=ticket, actor=user)
        return Response(TicketDetailOutput(access.ticket_or_404(user, reference)).data)


class TicketAssignApi(APIView):
    class TicketAssignInput(serializers.Serializer):
        assignee = serializers.CharField(allow_null=True, help_text="A username, or null.")

    @extend_schema(request=TicketAssignInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, reference: str) -> Response:
        user = _user(request)
        ticket = access.ticket_or_404(user, reference)
        data = self.TicketAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not access.can_work(user, ticket):
            raise PermissionDeniedError(_("You may not assign this ticket."))
        username = data.validated_data["assignee"]
        assignee = None
        if username is not None:
            assignee = User.objects.filter(username=username).first()
            if assignee is None:
                raise serializers.ValidationError({"assignee": ["No such user."]})
        services.ticket_assign(ticket=ticket, actor=user, assignee=assignee)
        return Response(TicketDetailOutput(access.ticket_or_404(user, reference)).data)


class TicketReclassifyApi(APIView):
    class TicketReclassifyInput(serializers.Serializer):
        severity = serializers.ChoiceField(choices=Severity.choices)
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=TicketReclassifyInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, reference: str) -> Response:
        user = _user(request)
        ticket = access.ticket_or_404(user, reference)
        data = self.TicketReclassifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.ticket_reclassify(ticket=ticket, actor=user, **data.validated_data)
        return Response(TicketDetailOutput(access.ticket_or_404(user, reference)).data)


class AttachmentDownloadApi(APIView):
    @extend_schema(
        responses={(200, "application/octet-stream"): bytes, **error_responses(401, 404)}
    )
    def get(self, request: Request, key: str) -> FileResponse:
        try:
            attachment = access.visible_attachments(_user(request)).get(key=key)
        except Attachment.DoesNotExist:
            raise Http404 from None
        return attachment_response(attachment)
