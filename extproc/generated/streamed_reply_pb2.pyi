from envoy.config.core.v3 import base_pb2 as _base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as _external_processor_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamedImmediateResponse(_message.Message):
    __slots__ = ("headers_response", "body_response", "trailers_response")
    HEADERS_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    BODY_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    TRAILERS_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    headers_response: _external_processor_pb2.HttpHeaders
    body_response: _external_processor_pb2.StreamedBodyResponse
    trailers_response: _base_pb2.HeaderMap
    def __init__(self, headers_response: _Optional[_Union[_external_processor_pb2.HttpHeaders, _Mapping]] = ..., body_response: _Optional[_Union[_external_processor_pb2.StreamedBodyResponse, _Mapping]] = ..., trailers_response: _Optional[_Union[_base_pb2.HeaderMap, _Mapping]] = ...) -> None: ...

class ProcessingResponseStreamedReply(_message.Message):
    __slots__ = ("streamed_immediate_response",)
    STREAMED_IMMEDIATE_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    streamed_immediate_response: StreamedImmediateResponse
    def __init__(self, streamed_immediate_response: _Optional[_Union[StreamedImmediateResponse, _Mapping]] = ...) -> None: ...
