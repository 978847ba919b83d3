"""Building ext_proc responses from the engine's plain values."""

from __future__ import annotations

from collections.abc import Iterable

from core.common.http import Reply
from extproc.protos import (
    BodyMutation,
    BodyResponse,
    CommonResponse,
    Duration,
    HeaderMap,
    HeaderMutation,
    HeadersResponse,
    HeaderValue,
    HeaderValueOption,
    HttpHeaders,
    HttpStatus,
    ImmediateResponse,
    ProcessingMode,
    ProcessingRequest,
    ProcessingResponse,
    ProcessingResponseStreamedReply,
    StreamedBodyResponse,
    StreamedImmediateResponse,
    TrailersResponse,
)

__all__ = [
    "SLOW_ANSWER_TIMEOUT",
    "body_reply",
    "header_map",
    "headers_reply",
    "immediate",
    "mutation",
    "streamed_body",
    "streamed_reply_body",
    "streamed_reply_headers",
    "trailers_reply",
]

_OVERWRITE = HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD

# How long an answer that waits on the backend (a buffered tool loop, a summary) may
# take: the filter's max_message_timeout must allow it (Envoy honours one override per
# message, so it cannot be extended as the work goes on).
SLOW_ANSWER_TIMEOUT = Duration(seconds=300)


def header_map(message: ProcessingRequest) -> dict[str, str]:
    """Headers of a request- or response-headers message (Envoy sends `raw_value`)."""
    which = message.request_headers if message.HasField("request_headers") else None
    source = which or message.response_headers
    return {h.key: h.raw_value.decode("latin-1") or h.value for h in source.headers.headers}


def mutation(
    set_headers: Iterable[tuple[str, str]] = (), remove: Iterable[str] = ()
) -> HeaderMutation:
    return HeaderMutation(
        set_headers=[
            HeaderValueOption(
                header=HeaderValue(key=k, raw_value=v.encode("latin-1")), append_action=_OVERWRITE
            )
            for k, v in set_headers
        ],
        remove_headers=list(remove),
    )


def headers_reply(
    *,
    response_phase: bool,
    header_mutation: HeaderMutation | None = None,
    mode: ProcessingMode | None = None,
    reroute: bool = False,
) -> ProcessingResponse:
    common = CommonResponse(header_mutation=header_mutation, clear_route_cache=reroute)
    headers = HeadersResponse(response=common)
    if response_phase:
        return ProcessingResponse(response_headers=headers, mode_override=mode)
    return ProcessingResponse(request_headers=headers, mode_override=mode)


def body_reply(
    body: bytes, *, response_phase: bool, header_mutation: HeaderMutation | None = None
) -> ProcessingResponse:
    common = CommonResponse(header_mutation=header_mutation, body_mutation=BodyMutation(body=body))
    if response_phase:
        return ProcessingResponse(response_body=BodyResponse(response=common))
    return ProcessingResponse(request_body=BodyResponse(response=common))


def streamed_body(body: bytes, *, end_of_stream: bool) -> ProcessingResponse:
    """A piece of the response body in FULL_DUPLEX_STREAMED mode."""
    chunk = StreamedBodyResponse(body=body, end_of_stream=end_of_stream)
    common = CommonResponse(body_mutation=BodyMutation(streamed_response=chunk))
    return ProcessingResponse(response_body=BodyResponse(response=common))


def trailers_reply() -> ProcessingResponse:
    return ProcessingResponse(response_trailers=TrailersResponse())


def immediate(reply: Reply) -> ProcessingResponse:
    headers = [("content-type", reply.content_type), *reply.headers]
    return ProcessingResponse(
        immediate_response=ImmediateResponse(
            status=HttpStatus(code=reply.status),
            headers=mutation(headers),
            body=reply.body,
        )
    )


def _streamed_reply(part: StreamedImmediateResponse) -> ProcessingResponse:
    # The envelope's field 11 is ProcessingResponse's `streamed_immediate_response`, which
    # the xds-protos stubs do not know: parsed as a ProcessingResponse it is kept as an
    # unknown field and serialised back unchanged.
    envelope = ProcessingResponseStreamedReply(streamed_immediate_response=part)
    return ProcessingResponse.FromString(envelope.SerializeToString())


def streamed_reply_headers(
    status: int, headers: Iterable[tuple[str, str]], *, end_of_stream: bool
) -> ProcessingResponse:
    """The first message of a reply the processor streams itself (no upstream)."""
    values = [
        HeaderValue(key=k, raw_value=v.encode("latin-1"))
        for k, v in ((":status", str(status)), *headers)
    ]
    start = HttpHeaders(headers=HeaderMap(headers=values), end_of_stream=end_of_stream)
    return _streamed_reply(StreamedImmediateResponse(headers_response=start))


def streamed_reply_body(chunk: bytes, *, end_of_stream: bool) -> ProcessingResponse:
    """A piece of a reply the processor streams itself."""
    piece = StreamedBodyResponse(body=chunk, end_of_stream=end_of_stream)
    return _streamed_reply(StreamedImmediateResponse(body_response=piece))
