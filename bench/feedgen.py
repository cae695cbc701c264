"""Large synthetic partner feeds in their real formats, for the benchmarks."""

from __future__ import annotations

import datetime as dt
import json
import random

TOWNS = [("66538", "Neunkirchen", 49.3452, 7.1800), ("66564", "Ottweiler", 49.4012, 7.1638),
         ("66557", "Illingen", 49.3740, 7.0478), ("66578", "Schiffweiler", 49.3662, 7.1288),
         ("66583", "Spiesen-Elversberg", 49.3172, 7.1253), ("66571", "Eppelborn", 49.4027, 6.9693)]
TITLES = ["Pflegefachkraft (m/w/d)", "Fachkraft für Lagerlogistik (m/w/d)", "Busfahrer (m/w/d)",
          "Koch (m/w/d)", "Erzieher (m/w/d)", "Elektroniker (m/w/d)", "Verkäufer (m/w/d)"]
# dates relative to the day the feeds are made: the pipeline's date rules use the real day
DAY = dt.date.today()
START, END = DAY + dt.timedelta(days=96), DAY + dt.timedelta(days=338)
STREETS = ["Bahnhofstraße", "Hauptstraße", "Lindenallee", "Kirchstraße", "Schulstraße"]


def ba_jobs(n: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    items = []
    for i in range(n):
        postal, town, lat, lon = TOWNS[i % len(TOWNS)]
        items.append({
            "referenznummer": f"10001-{1000000000 + i}-S",
            "stellenangebotsTitel": TITLES[i % len(TITLES)],
            "firma": f"Betrieb {i % 997} GmbH",
            "stellenlokationen": [{"adresse": {"strasse": rnd.choice(STREETS), "hausnummer": str(i % 90 + 1),
                                               "plz": postal, "ort": town, "region": "SAARLAND",
                                               "land": "DEUTSCHLAND"},
                                   "breite": lat, "laenge": lon}],
            "stellenangebotsart": "ARBEIT", "arbeitszeitVollzeit": True,
            "verguetungsangabe": "MONATSGEHALT", "gehaltsspanneVon": 2400 + i % 900,
            "gehaltsspanneBis": 3400 + i % 900, "eintrittszeitraum": {"von": str(DAY + dt.timedelta(days=5))},
            "aenderungsdatum": f"{DAY - dt.timedelta(days=25)}T08:00:00.000", "externeURL": f"https://jobs.example/{i}",
        })
    return json.dumps({"ergebnisliste": items, "maxErgebnisse": n, "page": 1, "size": n},
                      ensure_ascii=False).encode()


def openimmo(n: int) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<openimmo><uebertragung art="ONLINE" umfang="VOLL" '
             'modus="CHANGE" version="1.2.7"/><anbieter><firma>Bench Wohnen eG</firma>']
    for i in range(n):
        postal, town, lat, lon = TOWNS[i % len(TOWNS)]
        parts.append(
            f"<immobilie><objektkategorie><nutzungsart WOHNEN=\"true\"/><vermarktungsart MIETE_PACHT=\"true\"/>"
            f"<objektart><wohnung wohnungtyp=\"ETAGE\"/></objektart></objektkategorie>"
            f"<geo><plz>{postal}</plz><ort>{town}</ort><geokoordinaten breitengrad=\"{lat}\" laengengrad=\"{lon}\"/>"
            f"<strasse>{STREETS[i % 5]}</strasse><hausnummer>{i % 90 + 1}</hausnummer><land iso_land=\"DEU\"/>"
            f"<etage>{i % 4}</etage></geo><preise><kaltmiete>{400 + i % 300}</kaltmiete>"
            f"<warmmiete>{560 + i % 300}</warmmiete><nebenkosten>160</nebenkosten><kaution>1200</kaution></preise>"
            f"<flaechen><wohnflaeche>{45 + i % 60}</wohnflaeche><anzahl_zimmer>{1 + i % 4}</anzahl_zimmer></flaechen>"
            f"<freitexte><objekttitel>{1 + i % 4}-Zimmer-Wohnung in {town}</objekttitel></freitexte>"
            f"<verwaltung_objekt><verfuegbar_ab>sofort</verfuegbar_ab><wbs_sozialwohnung>false</wbs_sozialwohnung>"
            f"</verwaltung_objekt><verwaltung_techn><objektnr_extern>BW-{i:07d}</objektnr_extern>"
            f"<aktion aktionart=\"CHANGE\"/></verwaltung_techn></immobilie>")
    parts.append("</anbieter></openimmo>")
    return "".join(parts).encode()


def csv_courses(n: int) -> bytes:
    rows = ["Kurs-ID;Titel;Kursart;Sprachniveau;Beginn;Ende;Zeitmodell;Kinderbetreuung;Strasse;PLZ;Ort"]
    for i in range(n):
        postal, town, _, _ = TOWNS[i % len(TOWNS)]
        rows.append(f"K-{i:07d};Integrationskurs {i};Integrationskurs;A1-B1;{START:%d.%m.%Y};{END:%d.%m.%Y};Teilzeit;ja;"
                    f"{STREETS[i % 5]} {i % 90 + 1};{postal};{town}")
    return ("\n".join(rows) + "\n").encode("utf-8")


GENERATORS = {"ba-jobsuche": ba_jobs, "openimmo": openimmo, "csv-courses": csv_courses}
DOMAINS = {"ba-jobsuche": "jobs", "openimmo": "housing", "csv-courses": "courses"}
