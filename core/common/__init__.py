"""What every domain shares: request and reply shapes, the error hierarchy, validation,
paging, ids, tenancy and SSE framing."""

from core.common.errors import GatewayError, InvalidRequestError, NotFoundError, ServerError
from core.common.http import BodySink, Call, Reply, Request, error_reply
from core.common.ids import new_id
from core.common.listing import PageRequest, list_body, page_request, window
from core.common.tenancy import tenant_for

__all__ = [
    "BodySink",
    "Call",
    "GatewayError",
    "InvalidRequestError",
    "NotFoundError",
    "PageRequest",
    "Reply",
    "Request",
    "ServerError",
    "error_reply",
    "list_body",
    "new_id",
    "page_request",
    "tenant_for",
    "window",
]
