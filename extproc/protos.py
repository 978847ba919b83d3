"""The Envoy ext_proc protobuf types the adapter speaks, in one place.

The stubs come from the `xds-protos` wheel (the fastest codec measured for grpc.aio);
what it lacks (the streamed immediate reply) is compiled from `proto/`.
"""

from __future__ import annotations

from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue, HeaderValueOption
from envoy.extensions.filters.http.ext_proc.v3.processing_mode_pb2 import ProcessingMode
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    BodyMutation,
    BodyResponse,
    CommonResponse,
    HeaderMutation,
    HeadersResponse,
    HttpHeaders,
    ImmediateResponse,
    ProcessingRequest,
    ProcessingResponse,
    StreamedBodyResponse,
    TrailersResponse,
)
from envoy.service.ext_proc.v3.external_processor_pb2_grpc import (
    ExternalProcessorServicer,
    add_ExternalProcessorServicer_to_server,
)
from envoy.type.v3.http_status_pb2 import HttpStatus
from google.protobuf.duration_pb2 import Duration

from extproc.generated.streamed_reply_pb2 import (
    ProcessingResponseStreamedReply,
    StreamedImmediateResponse,
)

__all__ = [
    "BodyMutation",
    "BodyResponse",
    "CommonResponse",
    "Duration",
    "ExternalProcessorServicer",
    "HeaderMap",
    "HeaderMutation",
    "HeaderValue",
    "HeaderValueOption",
    "HeadersResponse",
    "HttpHeaders",
    "HttpStatus",
    "ImmediateResponse",
    "ProcessingMode",
    "ProcessingRequest",
    "ProcessingResponse",
    "ProcessingResponseStreamedReply",
    "StreamedBodyResponse",
    "StreamedImmediateResponse",
    "TrailersResponse",
    "add_ExternalProcessorServicer_to_server",
]
