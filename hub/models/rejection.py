"""A record the hub could not accept, with the reason in words a partner can act on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: str
    domain: str
    source_id: str | None = None
    rule: str
    severity: str = "error"
    field: str | None = None
    value: str | None = None
    message: str
    message_en: str
    hint: str | None = None
    title: str | None = None
    line: int | None = Field(None, ge=1, description=(
        "The line of the partner's file the record starts on (CSV templates; the header is "
        "line 1), so that a row is found without an id"))
