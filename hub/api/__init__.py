"""The read API: the directory, the change feed and the partners' feedback pages over HTTP
(FastAPI). ``create_app(engine, settings)`` builds it; ``hub serve`` runs it."""

from __future__ import annotations


def create_app(engine, settings=None):
    from hub.api.app import create_app as _create_app

    return _create_app(engine, settings)


__all__ = ["create_app"]
