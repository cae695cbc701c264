"""Demo partner feeds for Landkreis Neunkirchen (Saarland) and a loopback server for them.

``generate(today)`` builds the feeds a welcome center's partners would send (BA Jobsuche JSON,
the CSV course template, OpenImmo XML), with realistic content, a few deliberately broken
records and a few cross-partner duplicates. ``serve_demo(data)`` serves them on 127.0.0.1 and
``registry_yaml(data, base_url)`` writes the matching partner registry.
"""

from hub.demo.feeds import (
    DISTRICT_POSTAL_CODES,
    TOWNS,
    BrokenRecord,
    DemoData,
    DemoFeed,
    generate,
    registry_yaml,
)
from hub.demo.server import FeedServer, serve_demo

__all__ = [
    "DISTRICT_POSTAL_CODES",
    "TOWNS",
    "BrokenRecord",
    "DemoData",
    "DemoFeed",
    "FeedServer",
    "generate",
    "registry_yaml",
    "serve_demo",
]
