"""Gateway settings, read from OPENRESPONSES_* environment variables and `.env`."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENRESPONSES_", env_file=".env", extra="ignore")

    backend_url: str = Field(
        "http://127.0.0.1:8000/v1", description="Base URL of the /v1/responses backend."
    )
    backend_api_key: str | None = Field(
        None, description="Bearer key sent to the backend instead of the client's."
    )
    backend_timeout_seconds: float = Field(
        600.0, gt=0, description="Longest the backend may stay silent before a 504."
    )
    port: int = Field(8080, description="Envoy's listener port.")
    host: str = Field("127.0.0.1", description="Envoy's listener address.")
    admin_port: int = Field(9901, description="Envoy's admin port (127.0.0.1 only).")
    internal_port: int | None = Field(
        None,
        description="Envoy listener (127.0.0.1 only) the sidecar calls the backend through "
        "for tool-loop turns; defaults to port + 1.",
    )
    backend_api: Literal["responses", "chat_completions"] = Field(
        "responses",
        description="The backend's API: `responses` (/v1/responses) or `chat_completions` "
        "(only /v1/chat/completions; the gateway translates both ways).",
    )
    extproc_port: int = Field(
        9002, description="The ext_proc gRPC port (worker i of several listens on port + i)."
    )
    workers: int = Field(
        1,
        ge=1,
        description="Sidecar processes `run` starts, each an endpoint of Envoy's ext_proc "
        "cluster on extproc_port + i (metrics on metrics_port + i); one Python process "
        "uses one core.",
    )
    extproc_endpoints: str | None = Field(
        None,
        description="For `envoy-config`: the ext_proc cluster's endpoints as comma-separated "
        "host:port (sidecar replicas on other hosts, resolved by DNS); defaults to "
        "the local workers (127.0.0.1:<extproc port + i>).",
    )
    internal_host: str = Field(
        "127.0.0.1",
        description="Address Envoy's internal listener binds; only a private network (a "
        "compose network) justifies another: the listener has no processor.",
    )
    extproc_host: str = Field(
        "127.0.0.1",
        description="Address the ext_proc gRPC server binds (0.0.0.0 or :: in a pod that "
        "Envoy reaches over the network).",
    )
    internal_url: str | None = Field(
        None,
        description="Base URL (with /v1) the sidecar sends tool-loop turns to: Envoy's "
        "internal listener or the backend Service; defaults to the internal listener on "
        "127.0.0.1.",
    )
    metrics_port: int = Field(
        9464, ge=0, description="Port of the Prometheus metrics (GET /metrics); 0 turns them off."
    )
    metrics_host: str = Field("127.0.0.1", description="Address the metrics port binds.")
    shutdown_grace_seconds: float = Field(
        25.0,
        ge=0,
        description="On SIGTERM, how long in-flight streams may take to finish (the health "
        "service reports NOT_SERVING meanwhile and no new stream is taken).",
    )
    blob_url: str | None = Field(
        None,
        description="Where file contents live: file:///abs/dir (a shared volume for "
        "replicas) or s3://bucket/prefix; defaults to the data dir.",
    )
    s3_endpoint_url: str | None = Field(
        None,
        description="The S3-compatible endpoint for an s3:// blob URL (MinIO, Ceph, R2); "
        "credentials and region from the standard AWS_* variables.",
    )
    redis_cluster: bool = Field(
        False,
        description="Treat OPENRESPONSES_REDIS_URL as a seed node of a Redis Cluster.",
    )
    redis_wait_replicas: int = Field(
        0,
        ge=0,
        description="Replicas that must confirm a stored response, appended conversation "
        "items or a file record (Redis WAIT, 1 s) before the client is answered; 0: none.",
    )
    redis_url: str | None = Field(None, description="External Redis; unset runs an embedded one.")
    data_dir: Path = Field(Path("./data"), description="Embedded Redis AOF and generated config.")
    tenant_header: str | None = Field(
        None, description="Trusted header carrying the tenant, set by the operator's auth layer."
    )
    max_upload_bytes: int = Field(
        512 * 1024 * 1024, gt=0, description="Largest file upload accepted (POST /v1/files)."
    )
    qdrant_url: str | None = Field(
        None, description="A Qdrant server or cluster; unset keeps vectors under the data dir."
    )
    qdrant_api_key: str | None = Field(None, description="API key for the Qdrant server.")
    embeddings_url: str | None = Field(
        None, description="An OpenAI-compatible /v1 base URL for embeddings; unset = lexical only."
    )
    embeddings_api_key: str | None = Field(None, description="Bearer key for embeddings.")
    embeddings_model: str = Field("text-embedding-3-small", description="Embeddings model.")
    ingest_claim_after_seconds: float = Field(
        60.0, gt=0, description="How long an ingestion job may stall before another takes it."
    )
    ingest_concurrency: int = Field(
        4, ge=1, le=64, description="Files one sidecar ingests at the same time."
    )
    file_reaper_interval_seconds: float = Field(
        60.0, gt=0, description="How often expired files are deleted."
    )
    mcp_allowed_hosts: str = Field(
        "", description="Hosts or CIDRs MCP servers may be on although private (comma-separated)."
    )
    mcp_timeout_seconds: float = Field(30.0, gt=0, description="Longest one MCP call may take.")
    compaction_key: SecretStr | None = Field(
        None,
        description="Base64 of 32 bytes: the AES-256-GCM key sealing compaction items; unset "
        "= generated once and kept in Redis, shared by every sidecar.",
    )
    input_file_mode: Literal["text", "inline"] = Field(
        "text",
        description="How an input_file given by file_id reaches the backend: its extracted "
        "text (text) or its bytes as a base64 data URL in file_data (inline).",
    )
    input_file_max_bytes: int = Field(
        16 * 1024 * 1024,
        gt=0,
        description="File content (extracted text, or bytes when inlined) one request may "
        "send the backend, all files given by id together.",
    )
    log_level: str = Field("info", description="debug, info, warning or error.")
    log_format: Literal["text", "json"] = Field(
        "text", description="text, or json: one JSON object per line."
    )

    @field_validator("compaction_key")
    @classmethod
    def _key_of_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(_decoded(value)) != 32:
            raise ValueError("must be the base64 encoding of exactly 32 bytes")
        return value

    def compaction_key_bytes(self) -> bytes | None:
        return None if self.compaction_key is None else _decoded(self.compaction_key)

    def shared_state_warning(self) -> str | None:
        """What to tell an operator whose sidecars share Redis but keep vectors apart."""
        if self.redis_url and not self.qdrant_url:
            return (
                "Vector stores are indexed in this process's embedded engine: replicas "
                "sharing this Redis serve everything else, but each sees only the chunks it "
                "indexed itself. Set OPENRESPONSES_QDRANT_URL to share vector stores."
            )
        return None

    def extproc_ports(self) -> list[int]:
        """The ext_proc ports of the `workers` sidecar processes `run` starts."""
        return [self.extproc_port + i for i in range(self.workers)]

    def backend_route_port(self) -> int:
        return self.internal_port or self.port + 1

    def follow_up_url(self) -> str:
        """Where the later turns of a tool loop go (see `internal_url`)."""
        return self.internal_url or f"http://127.0.0.1:{self.backend_route_port()}/v1"

    def backend_parts(self) -> tuple[str, str, int, str]:
        """(scheme, host, port, path prefix without trailing slash) of the backend URL."""
        url = urlsplit(self.backend_url)
        scheme = url.scheme or "http"
        port = url.port or (443 if scheme == "https" else 80)
        return scheme, url.hostname or "127.0.0.1", port, url.path.rstrip("/")


def _decoded(value: SecretStr) -> bytes:
    try:
        return base64.b64decode(value.get_secret_value().strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""
