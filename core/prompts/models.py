"""The Prompts API's request bodies and the stored prompt version."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import Field, PlainValidator, TypeAdapter, model_validator

from core.common.model_errors import absent, refusal
from core.common.models import Metadata, OpenModel, parse_as

__all__ = [
    "PromptCreate",
    "PromptUpdate",
    "PromptVersion",
    "PromptVersionBody",
    "VersionNumber",
    "version_number",
]

MAX_MESSAGES = 100


def _version(value: Any) -> int:
    # Version numbers are strings on the wire (as in `prompt.version`); integers pass too.
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise refusal(
            "invalid_value", "Invalid '{param}': expected a version number such as \"1\"."
        )
    return int(text)


VersionNumber = Annotated[int, PlainValidator(_version)]
_VERSION: TypeAdapter[int] = TypeAdapter(VersionNumber)


def version_number(value: Any, param: str) -> int:
    """A version number given outside a body (a query parameter, `prompt.version`)."""
    return parse_as(_VERSION, value, param)


class PromptVersionBody(OpenModel):
    """A new version: `instructions` and/or `input` messages (checked as input items)."""

    instructions: str | None = None
    input: Annotated[list[Any], Field(max_length=MAX_MESSAGES)] | None = None
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if not self.instructions and not self.input:
            raise absent(("instructions",))
        return self


class PromptCreate(PromptVersionBody):
    name: str | None = None


class PromptUpdate(OpenModel):
    default_version: VersionNumber


class PromptVersion(OpenModel):
    """One immutable version as stored: its template and the variables it names."""

    instructions: str | None
    input: list[dict[str, Any]]
    variables: list[str]
    metadata: dict[str, str]
    version_created_at: int
