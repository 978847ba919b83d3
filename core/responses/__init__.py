"""`POST /v1/responses` and the stored-response operations."""

from core.responses.api import ResponsesApi
from core.responses.backend_client import BackendClient, backend_authorization
from core.responses.create_flow import CreateResponseFlow
from core.responses.stream_relay import Relay

__all__ = ["BackendClient", "CreateResponseFlow", "Relay", "ResponsesApi", "backend_authorization"]
