"""What every body of the API shares: a request's base and the error answer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Request(BaseModel):
    """The base of every request body."""

    # Clients of the original service send back whole objects they received
    # (ids, votes, timestamps); unknown fields are ignored, as FastAPI did.
    model_config = ConfigDict(extra="ignore", strict=False)
    # The original's clients may authenticate with a field in the body.
    api_key: str | None = Field(default=None, exclude=True, repr=False)


class Problem(BaseModel):
    """Every error answer: `detail` is a message or, for validation, a list of errors."""

    detail: str | list[dict]
