"""The gateway's one error hierarchy, rendered as OpenAI error bodies at the edge."""

from __future__ import annotations

import orjson

__all__ = [
    "BadGatewayError",
    "GatewayError",
    "InvalidRequestError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServerError",
    "UnavailableError",
    "UpstreamError",
    "error_body",
]


def error_body(
    message: str, type_: str, param: str | None = None, code: str | None = None
) -> bytes:
    return orjson.dumps(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}
    )


class GatewayError(Exception):
    """An error the client sees: an HTTP status plus the OpenAI error object."""

    status = 500
    type_ = "server_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def body(self) -> bytes:
        return error_body(self.message, self.type_, self.param, self.code)


class InvalidRequestError(GatewayError):
    status = 400
    type_ = "invalid_request_error"


class NotFoundError(GatewayError):
    status = 404
    type_ = "invalid_request_error"


class PayloadTooLargeError(GatewayError):
    status = 413
    type_ = "invalid_request_error"


class ServerError(GatewayError):
    status = 500
    type_ = "server_error"


class UnavailableError(GatewayError):
    """Storage cannot be reached (a Redis failover, say): worth retrying shortly."""

    status = 503
    type_ = "server_error"


class BadGatewayError(GatewayError):
    status = 502
    type_ = "server_error"


class UpstreamError(GatewayError):
    """The backend's own error, relayed with its status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str,
        param: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message, param=param, code=code)
        self.status = status
        self.type_ = type_
