"""A record the hub could not accept, with the reason in words a partner can act on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
