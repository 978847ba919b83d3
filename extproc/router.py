"""Choosing a request's processor from its headers, by what the gateway makes of it."""

from __future__ import annotations

from dataclasses import dataclass

from core.common.errors import GatewayError
from core.common.http import Call, Reply, Request, StreamedReply, error_reply
from core.gateway import Gateway
from core.responses.create_flow import CreateResponseFlow
from core.routes import Route
from extproc.create_processor import CreateResponse
from extproc.messages import header_map
from extproc.processor import PassThrough, Processor
from extproc.protos import ProcessingRequest
from extproc.reply_processors import Answered, BodyAnswered, StreamedAnswer, Upload

__all__ = ["Opened", "open_processor"]


@dataclass(frozen=True, slots=True)
class Opened:
    processor: Processor
    operation: str | None  # the route's name; None for a request passed through
    tenant: str | None = None


async def open_processor(gateway: Gateway, message: ProcessingRequest) -> Opened:
    """The processor for the request whose headers `message` carries."""
    headers = header_map(message)
    request = Request.from_target(headers.get(":method", ""), headers.get(":path", ""), headers)
    routed = gateway.route(request)
    if routed is None:
        return Opened(PassThrough(), None)
    processor = await _processor(routed.route, routed.call)
    return Opened(processor, routed.route.name, routed.call.tenant)


async def _processor(route: Route, call: Call) -> Processor:
    if route.needs_body:
        return BodyAnswered(route, call)
    try:
        outcome = await route.handler(call)
    except GatewayError as error:
        return Answered(error_reply(error))
    if isinstance(outcome, Reply):
        return Answered(outcome)
    if isinstance(outcome, StreamedReply):
        return StreamedAnswer(outcome)
    if isinstance(outcome, CreateResponseFlow):
        return CreateResponse(outcome)
    return Upload(outcome)
