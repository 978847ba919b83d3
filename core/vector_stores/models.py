"""Request bodies of the Vector Stores API, and the search options it shares with the
`file_search` tool (one model, so the same input gets the same answer on both)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Field, PlainValidator, model_validator

from core.common.model_errors import absent, refusal, wrong_type
from core.common.models import ClosedModel, Metadata, OpenModel
from core.vector_stores.filters import ComparisonFilter, CompoundFilter, Filters
from core.vector_stores.ingestion.chunking import AutoChunking, ChunkingParam, StaticChunking

__all__ = [
    "Attributes",
    "ExpiresAfter",
    "FileBatchCreate",
    "FileBatchEntry",
    "RankingOptions",
    "SearchOptions",
    "SearchRequest",
    "VectorStoreCreate",
    "VectorStoreFileCreate",
    "VectorStoreFileUpdate",
    "VectorStoreModify",
]

_BATCH_MAX = 2000


def _attribute_value(value: Any) -> str | int | float | bool:
    # Checked by hand rather than as a union: a union's errors name its members, and a
    # strict float would turn the integer 5 into 5.0.
    if isinstance(value, str):
        if len(value) > 512:
            raise refusal(
                "string_above_max_length",
                "Invalid '{param}': string too long. Expected a string with maximum length 512, "
                f"but got a string with length {len(value)} instead.",
            )
        return value
    if isinstance(value, int | float):  # bool included
        return value
    raise wrong_type("a string, number or boolean", value)


# At most 16 keys of up to 64 characters; strings (<= 512), numbers or booleans.
Attributes = Annotated[
    dict[
        Annotated[str, Field(max_length=64)],
        Annotated[str | int | float | bool, PlainValidator(_attribute_value)],
    ],
    Field(max_length=16),
]


class HybridSearch(OpenModel):
    """How dense and lexical ranks are weighed when both are searched."""

    embedding_weight: Annotated[float, Field(ge=0.0)] = 1.0
    text_weight: Annotated[float, Field(ge=0.0)] = 1.0

    @model_validator(mode="after")
    def _some_weight(self) -> Self:
        if self.embedding_weight + self.text_weight <= 0:
            raise refusal(
                "invalid_value",
                "Invalid '{param}': embedding_weight and text_weight may not both be 0.",
            )
        return self


class RankingOptions(OpenModel):
    ranker: str | None = None
    score_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    hybrid_search: HybridSearch | None = None


class SearchOptions(OpenModel):
    """What a search returns: how many results, which files, above which score."""

    max_num_results: Annotated[int, Field(ge=1, le=50)] = 10
    filters: Filters | None = None
    ranking_options: RankingOptions | None = None

    @property
    def threshold(self) -> float:
        return self.ranking_options.score_threshold if self.ranking_options else 0.0

    @property
    def weights(self) -> tuple[float, float] | None:
        """(dense, lexical) weights, when the request gives them."""
        hybrid = self.ranking_options.hybrid_search if self.ranking_options else None
        return None if hybrid is None else (hybrid.embedding_weight, hybrid.text_weight)

    def filter_dict(self) -> dict[str, Any] | None:
        found: ComparisonFilter | CompoundFilter | None = self.filters
        return None if found is None else found.plain()


def _queries(value: Any) -> Any:
    queries = [value] if isinstance(value, str) else value
    if not isinstance(queries, list):
        raise wrong_type("a string or an array of strings", value)
    for i, query in enumerate(queries):
        if not isinstance(query, str):
            raise wrong_type("a string", query, (i,))
        if not query.strip():
            raise refusal("invalid_value", "Invalid '{param}': expected a non-empty query.", (i,))
    if not queries:
        raise refusal("invalid_value", "Invalid '{param}': expected at least one query.")
    return queries


class SearchRequest(SearchOptions):
    """`POST /vector_stores/{id}/search`; a string query is a list of one."""

    query: Annotated[list[str], PlainValidator(_queries)]
    rewrite_query: bool = False


class ExpiresAfter(ClosedModel):
    anchor: Literal["last_active_at"]
    days: Annotated[int, Field(ge=1, le=365)]


class VectorStoreCreate(OpenModel):
    name: str | None = None
    description: str | None = None
    file_ids: Annotated[list[str], Field(max_length=500)] | None = None
    expires_after: ExpiresAfter | None = None
    chunking_strategy: ChunkingParam | None = None
    metadata: Metadata = Field(default_factory=dict)


class VectorStoreModify(OpenModel):
    """Only the fields given change (`model_fields_set`); null clears."""

    name: str | None = None
    expires_after: ExpiresAfter | None = None
    metadata: Metadata = Field(default_factory=dict)


class VectorStoreFileCreate(OpenModel):
    file_id: str
    chunking_strategy: ChunkingParam | None = None
    attributes: Attributes | None = None


class VectorStoreFileUpdate(OpenModel):
    attributes: Attributes | None


class FileBatchEntry(OpenModel):
    """One file of a batch; what it leaves out comes from the batch's shared fields."""

    file_id: str
    chunking_strategy: ChunkingParam | None = None
    attributes: Attributes | None = None


class FileBatchCreate(OpenModel):
    """`file_ids` (sharing `chunking_strategy` and `attributes`) or `files`, one each."""

    file_ids: Annotated[list[str], Field(min_length=1, max_length=_BATCH_MAX)] | None = None
    files: Annotated[list[FileBatchEntry], Field(min_length=1, max_length=_BATCH_MAX)] | None = None
    chunking_strategy: ChunkingParam | None = None
    attributes: Attributes | None = None

    @model_validator(mode="after")
    def _some_files(self) -> Self:
        if self.files is None and self.file_ids is None:
            raise absent(("file_ids",))
        return self

    def entries(
        self,
    ) -> list[tuple[str, AutoChunking | StaticChunking | None, dict[str, Any]]]:
        """(file id, chunking strategy, attributes) of each file, shared fields applied."""
        if self.files is None:
            shared = self.attributes or {}
            return [(f, self.chunking_strategy, shared) for f in self.file_ids or []]
        return [
            (
                entry.file_id,
                entry.chunking_strategy
                if "chunking_strategy" in entry.model_fields_set
                else self.chunking_strategy,
                (entry.attributes if "attributes" in entry.model_fields_set else self.attributes)
                or {},
            )
            for entry in self.files
        ]
