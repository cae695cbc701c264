"""Builders for small partner feeds in their real formats, for pipeline tests."""

from __future__ import annotations

import datetime as dt
import json
import re

from werkzeug import Request, Response

TOWNS = [("66538", "Neunkirchen", 49.3447, 7.1802), ("66564", "Ottweiler", 49.4010, 7.1633),
         ("66557", "Illingen", 49.3731, 7.0478), ("66578", "Schiffweiler", 49.3636, 7.1289)]
TITLES = ["Pflegefachkraft (m/w/d)", "Fachkraft für Lagerlogistik (m/w/d)", "Busfahrer (m/w/d)",
          "Koch (m/w/d)", "Erzieher (m/w/d)", "Elektroniker für Betriebstechnik (m/w/d)"]


def posting(n: int, employer: str = "Saar Logistik GmbH", **overrides) -> dict:
    postal, town, lat, lon = TOWNS[n % len(TOWNS)]
    item = {
        "referenznummer": f"10001-{1000000000 + n}-S",
        "stellenangebotsTitel": TITLES[n % len(TITLES)],
        "firma": employer,
        "stellenlokationen": [{
            "adresse": {"strasse": "Bahnhofstraße", "hausnummer": str(n % 40 + 1), "plz": postal,
                        "ort": town, "region": "SAARLAND", "land": "DEUTSCHLAND"},
            "breite": lat, "laenge": lon,
        }],
        "stellenangebotsart": "ARBEIT",
        "arbeitszeitVollzeit": True,
        "eintrittszeitraum": {"von": "2026-12-01"},
        "aenderungsdatum": "2026-11-01T08:00:00.000",
    }
    item.update(overrides)
    return item


def ba_v6(postings: list[dict]) -> bytes:
    doc = {"ergebnisliste": postings, "maxErgebnisse": len(postings), "page": 1, "size": len(postings)}
    if not postings:
        doc.pop("ergebnisliste")  # BA leaves the list out on no match
    return json.dumps(doc, ensure_ascii=False).encode()


class Feed:
    """A feed served by pytest-httpserver that answers conditional requests like a real
    server: ETag on every 200, 304 when If-None-Match matches."""

    def __init__(self, httpserver, path: str, body: bytes, content_type: str = "application/json"):
        self.path, self.body, self.content_type = path, body, content_type
        self.requests: list[int] = []
        httpserver.expect_request(path).respond_with_handler(self._handle)
        self.url = httpserver.url_for(path)

    def _handle(self, request: Request) -> Response:
        import hashlib

        etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.requests.append(304)
            return Response(status=304, headers={"ETag": etag})
        self.requests.append(200)
        return Response(self.body, status=200, content_type=self.content_type, headers={"ETag": etag})


def registry_text(*partners: tuple[str, str, str]) -> str:
    """Registry YAML for (partner_id, format, url) entries, loopback allowed."""
    lines = ["partners:"]
    for pid, fmt, url in partners:
        lines += [f"  - id: {pid}", f"    name: {pid.replace('-', ' ').title()}",
                  "    allow_private_network: true", "    feeds:",
                  f"      - format: {fmt}", f"        source: {url}"]
    return "\n".join(lines) + "\n"


def years_ahead(body: bytes) -> bytes:
    """A fixture file written in 2026/2027 with every ISO date's year moved on by as many years
    as have begun since 2026, plus one: its offers stay as current as when it was written, so
    that the pipeline's date rules (which use the real day) do not expire them."""
    shift = dt.date.today().year - 2026 + 1
    return re.sub(rb"\b(20[2-3][0-9])-([01][0-9])-([0-3][0-9])\b",
                  lambda m: b"%d-%s-%s" % (int(m.group(1)) + shift, m.group(2), m.group(3)), body)
