"""The feedback report of one partner delivery: what was accepted, what was rejected or flagged
and why, in words a partner can act on (German by default, English on request).

``build_report`` turns a ``syncs`` row and its ``rejections`` rows (or ``Rejection`` models,
for a file checked offline) into a :class:`FeedbackReport`; ``render_html``, ``render_text``,
``render_csv`` and ``render_json`` give the forms people and machines read. The JSON Schema of
the report is published as ``schemas/feedback_report.schema.json`` (``hub schemas --write``; a test
fails when it drifts from the model).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from hub import clock
from hub.quality.rules import RULES

Lang = Literal["de", "en"]
Status = Literal["ok", "failed", "held"]
Severity = Literal["error", "warning"]
DomainName = Literal["jobs", "courses", "housing"]

LANGS: tuple[str, ...] = ("de", "en")
TEMPLATES = Path(__file__).with_name("templates")

LOCAL_TZ = clock.BERLIN  # partners read the hub's day and time, in Berlin


# --------------------------------------------------------------------------- the model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Counts(_Strict):
    items: int = Field(0, ge=0, description="Items in the delivery")
    accepted: int = Field(0, ge=0, description="Records accepted into the directory")
    rejected: int = Field(0, ge=0, description="Items not accepted (at least one error)")
    warnings: int = Field(
        0, ge=0, description="Accepted records with at least one warning (published, flagged)"
    )
    added: int = Field(0, ge=0, description="Records new since the last delivery")
    changed: int = Field(0, ge=0, description="Records changed since the last delivery")
    withdrawn: int = Field(0, ge=0, description=(
        "Records taken out of the directory: no longer delivered, or delivered and rejected "
        "(withdrawn_rejected of them)"))
    withdrawn_rejected: int = Field(0, ge=0, description=(
        "Of the withdrawn records, those still delivered but rejected in this delivery"))
    corrected: int = Field(0, ge=0, description=(
        "Records rejected in the previous delivery and accepted in this one (among added "
        "and changed)"))


class RuleCount(_Strict):
    code: str = Field(description="Stable rule code (hub.quality.rules)")
    severity: Severity
    count: int = Field(ge=1, description="Problems with this rule")
    message: str = Field(description="What the rule means, in the report's language")


class Problem(_Strict):
    source_id: str | None = Field(None, description="The record's id in the partner's feed")
    title: str | None = None
    line: int | None = Field(None, ge=1, description=(
        "The line of the delivered file the record starts on (CSV templates; the header is "
        "line 1)"))
    field: str | None = Field(None, description="Canonical field name, e.g. address.postal_code")
    field_label: str | None = Field(None, description="The field's name for people, e.g. PLZ")
    format_field: str | None = Field(None, description=(
        "The field's name in the delivered format, where the format names it: a CSV "
        "template's column as the delivered file wrote it (PLZ, or Postleitzahl where the "
        "file used that other usual name), a key or element of a machine format (geo/plz); "
        "None where only the directory's name (field) is known"))
    value: str | None = Field(None, description="The value delivered (shortened to 200 characters)")
    rule: str
    severity: Severity
    message: str = Field(description="What is wrong, in the report's language")
    hint: str | None = Field(None, description="How to fix it")


class Tip(_Strict):
    """A field that portals and newcomers search by, left empty in most accepted offers."""

    field: str = Field(description="Canonical field name, e.g. german_level")
    field_label: str = Field(description="The field's name as the partner knows it (a CSV column)")
    filled: float = Field(ge=0, le=1, description="Share of the accepted offers that fill it")
    message: str = Field(description="Why it matters and what to write, in the report's language")


class FeedbackReport(_Strict):
    """Feedback to a partner on one delivery (one sync of one partner feed)."""

    lang: Lang = "de"
    partner_id: str
    partner_name: str
    domain: DomainName
    sync_id: int | None = Field(None, description="None for a file checked offline")
    delivered_at: dt.datetime = Field(description="When the hub processed the delivery (UTC)")
    status: Status = Field(
        description="ok: processed; failed: unusable, nothing changed; held: waits for a steward"
    )
    status_message: str | None = Field(None, description="Technical detail of a failed or held sync")
    trial: bool = Field(False, description=(
        "A file checked before delivery (hub check): nothing was published; the status says "
        "what a delivery of it would do"))
    headline: str = Field(description="The result in one sentence, in the report's language")
    first_delivery: bool = Field(False, description=(
        "The partner's first processed delivery of this domain: no comparison with a last one"))
    counts: Counts
    rules: list[RuleCount] = Field(default_factory=list, description="Problems per rule")
    problems: list[Problem] = Field(
        default_factory=list, description="One entry per problem, errors first"
    )
    tips: list[Tip] = Field(default_factory=list, description=(
        "Fields that portals and newcomers search by, filled in fewer than half of the "
        "accepted offers (only fields the delivery's format has a place for)"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error" and p.rule not in _FILE_NOTES]

    @property
    def notes(self) -> list[Problem]:
        """Notes on the file as a whole (an unknown CSV column), not on an offer."""
        return [p for p in self.problems if p.severity != "error" and p.rule in _FILE_NOTES]

    @property
    def rejected_rows(self) -> list[Problem]:
        """The problems of the records rejected, each record's together: its errors, then its
        warnings (they are to be corrected too, and the record is not published with them)."""
        rows: dict[object, list[Problem]] = {}
        for problem in self.errors:
            rows.setdefault(_record_key(problem), []).append(problem)
        for problem in self.warnings:
            if _record_key(problem) in rows:
                rows[_record_key(problem)].append(problem)
        return [problem for record in rows.values() for problem in record]

    @property
    def flagged_rows(self) -> list[Problem]:
        """The warnings of the records accepted (published, or that would be)."""
        rejected = {_record_key(problem) for problem in self.errors}
        return [problem for problem in self.warnings if _record_key(problem) not in rejected]

    @property
    def clean(self) -> bool:
        return self.status == "ok" and not self.problems


# --------------------------------------------------------------------------- field labels

# canonical field -> (German, English); per-domain overrides below
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "partner_id": ("Partner-Kennung", "partner id"),
    "source_id": ("Kennung", "record id"),
    "title": ("Titel", "title"),
    "organisation": ("Anbieter", "organisation"),
    "description": ("Beschreibung", "description"),
    "address": ("Adresse", "address"),
    "address.street": ("Straße", "street"),
    "address.house_number": ("Hausnummer", "house number"),
    "address.postal_code": ("PLZ", "postal code"),
    "address.city": ("Ort", "town"),
    "address.municipality_key": ("Gemeindeschlüssel (AGS)", "municipality key (AGS)"),
    "address.state": ("Bundesland", "federal state"),
    "address.country": ("Land", "country"),
    "geo": ("Koordinaten", "coordinates"),
    "geo.lat": ("Breitengrad", "latitude"),
    "geo.lon": ("Längengrad", "longitude"),
    "url": ("Link zum Angebot", "link to the offer"),
    "contact": ("Ansprechperson", "contact"),
    "contact.name": ("Name der Ansprechperson", "contact name"),
    "contact.email": ("E-Mail der Ansprechperson", "contact e-mail"),
    "contact.phone": ("Telefon der Ansprechperson", "contact phone"),
    "contact.public": ("Kontakt öffentlich", "contact public"),
    "updated_at": ("Geändert am", "last changed"),
    "start_date": ("Beginn", "start"),
    # jobs
    "ba_reference": ("BA-Referenznummer", "BA reference number"),
    "occupation": ("Beruf", "occupation"),
    "employment_type": ("Art der Beschäftigung", "type of employment"),
    "working_time": ("Arbeitszeit", "working time"),
    "contract_duration": ("Befristung", "contract duration"),
    "german_level": ("Deutschkenntnisse (Niveau)", "German level"),
    "german_required": ("Deutschkenntnisse erforderlich", "German required"),
    "salary_min": ("Gehalt von", "salary from"),
    "salary_max": ("Gehalt bis", "salary up to"),
    "salary_period": ("Gehalt pro", "salary per"),
    "remote_possible": ("Homeoffice möglich", "remote work possible"),
    "published_from": ("Veröffentlicht ab", "published from"),
    "valid_through": ("Gültig bis", "valid until"),
    # courses
    "course_type": ("Kursart", "course type"),
    "language": ("Sprache", "language"),
    "cefr_levels": ("Sprachniveau", "language level"),
    "end_date": ("Kursende", "course end"),
    "schedule": ("Unterrichtszeiten", "schedule"),
    "childcare": ("Kinderbetreuung", "childcare"),
    "price_eur": ("Preis (Euro)", "price (euro)"),
    "funded": ("Gefördert / kostenlos", "funded / free"),
    "seats": ("Plätze", "seats"),
    # housing
    "property_type": ("Objektart", "property type"),
    "rooms": ("Zimmer", "rooms"),
    "living_area": ("Wohnfläche (m²)", "living area (m²)"),
    "cold_rent": ("Kaltmiete", "cold rent"),
    "warm_rent": ("Warmmiete", "warm rent"),
    "service_charges": ("Nebenkosten", "service charges"),
    "heating_costs": ("Heizkosten", "heating costs"),
    "deposit": ("Kaution", "deposit"),
    "available_from": ("Frei ab", "available from"),
    "available_from_text": ("Frei ab (Text)", "available from (text)"),
    "wbs_required": ("Wohnberechtigungsschein nötig", "housing entitlement certificate required"),
    "barrier_free": ("Barrierefrei", "barrier-free"),
    "max_persons": ("Max. Personen", "max. persons"),
    "floor": ("Etage", "floor"),
}
DOMAIN_FIELD_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "jobs": {"start_date": ("Eintrittsdatum", "start date"),
             "organisation": ("Arbeitgeber", "employer")},
    "courses": {"start_date": ("Kursbeginn", "course start"),
                "organisation": ("Kursträger", "course provider")},
    "housing": {"organisation": ("Vermieter", "landlord")},
}


def field_label(field: str | None, domain: str, lang: str = "de") -> str | None:
    """'address.postal_code' -> 'PLZ' (de) / 'postal code' (en); unknown names stay as they are."""
    if not field:
        return None
    labels = DOMAIN_FIELD_LABELS.get(domain, {}).get(field) or FIELD_LABELS.get(field)
    if labels is None:
        return field
    return labels[0] if lang == "de" else labels[1]


# --------------------------------------------------------------------------- words

DOMAIN_NOUNS = {
    "de": {"jobs": "Stellenangebote", "courses": "Kursangebote", "housing": "Wohnungsangebote"},
    "en": {"jobs": "job postings", "courses": "course offers", "housing": "housing offers"},
}
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Rückmeldung zu Ihrer Lieferung",
        "delivery_of": "Lieferung vom {when}",
        "headline_ok": "Ihre Lieferung vom {date}: {parts}.",
        "headline_all": "Ihre Lieferung vom {date}: alle {accepted} angenommen.",
        "headline_empty": "Ihre Lieferung vom {date} enthielt keine Angebote.",
        "headline_failed": ("Ihre Lieferung vom {date} konnte nicht verarbeitet werden; "
                            "das Verzeichnis zeigt weiterhin den letzten guten Stand."),
        "headline_held": ("Ihre Lieferung vom {date} wird vor der Übernahme geprüft; "
                          "das Verzeichnis zeigt weiterhin den letzten guten Stand."),
        "accepted": "angenommen",
        "accepted_one": "angenommen",
        "notes_title": "Hinweise zur Datei",
        "tips_title": "Damit Ihre Angebote gefunden werden",
        "tips_intro": ("Nach diesen Angaben suchen Zugewanderte und die Portale, die das "
                       "Verzeichnis zeigen; in den meisten Ihrer Angebote fehlen sie."),
        "col_filled": "in Ihren Angeboten angegeben",
        "col_why": "Warum es zählt",
        "rejected": "abgelehnt",
        "with_warnings": "mit Hinweisen",
        "clean": ("Vielen Dank! Alle Angebote sind angekommen und im Verzeichnis veröffentlicht. "
                  "Sie müssen nichts tun."),
        "empty": "Die Lieferung enthielt keine Angebote. Im Verzeichnis stehen derzeit keine Angebote von Ihnen.",
        "changes": "Gegenüber Ihrer letzten Lieferung: {parts}.",
        "no_changes": "Gegenüber Ihrer letzten Lieferung hat sich nichts geändert.",
        "added": "{n} neu",
        "changed": "{n} geändert",
        "withdrawn": "{n} nicht mehr enthalten und aus dem Verzeichnis genommen",
        "withdrawn_rejected": "{n} jetzt abgelehnt und deshalb aus dem Verzeichnis genommen",
        "corrected_one": "Darunter {offers}, das beim letzten Mal abgelehnt war und jetzt korrigiert ist.",
        "corrected_many": "Darunter {offers}, die beim letzten Mal abgelehnt waren und jetzt korrigiert sind.",
        "todo": ("Bitte korrigieren Sie die unten genannten Angaben in Ihrem System. "
                 "Mit Ihrer nächsten Lieferung werden die korrigierten Angebote übernommen."),
        "overview": "Übersicht",
        "col_problem": "Problem",
        "col_count": "Anzahl",
        "col_rule": "Code (für Rückfragen)",
        "errors_title": "Abgelehnt – nicht veröffentlicht",
        "errors_intro": ("Diese Angebote erscheinen nicht im Verzeichnis, bis sie korrigiert "
                         "geliefert werden."),
        "warnings_title": "Hinweise – veröffentlicht, bitte prüfen",
        "warnings_intro": "Diese Angebote sind im Verzeichnis, aber eine Angabe sieht nicht richtig aus.",
        "col_id": "Kennung",
        "col_line": "Zeile",
        "at_line": "Zeile {n}",
        "col_title": "Titel",
        "col_field": "Feld",
        "col_value": "Wert",
        "col_wrong": "Was ist falsch",
        "col_fix": "So beheben Sie es",
        "col_severity": "Art",
        "col_field_name": "Feldname im System (für Ihre IT-Betreuung)",
        "directory_field": "Feld im Verzeichnis: {name}",
        "sev_error": "Fehler",
        "sev_warning": "Hinweis",
        "no_id": "(ohne Kennung)",
        "empty_value": "(leer)",
        "failed_title": "Ihre Lieferung konnte nicht verarbeitet werden",
        "failed_what": "Die Datei konnte nicht gelesen werden: Sie ist unvollständig, beschädigt "
                       "oder nicht im vereinbarten Format.",
        "failed_empty": "Die Lieferung enthielt keine Angebote.",
        "failed_keep": ("Das Verzeichnis zeigt weiterhin den Stand Ihrer letzten erfolgreichen "
                        "Lieferung; es ist nichts verloren gegangen."),
        "failed_todo": ("Bitte prüfen Sie Ihren Export (vollständig? im vereinbarten Format?) "
                        "und liefern Sie erneut."),
        "held_title": "Ihre Lieferung wird geprüft",
        "held_what": ("Diese Lieferung würde {gone} von {active} veröffentlichten Angeboten aus "
                      "dem Verzeichnis entfernen."),
        "held_what_generic": "Diese Lieferung würde ungewöhnlich viele Angebote aus dem Verzeichnis entfernen.",
        "held_why": ("Weil das ungewöhnlich viele sind, prüft das Willkommenszentrum die "
                     "Lieferung, bevor sie übernommen wird. Bis dahin zeigt das Verzeichnis den "
                     "Stand Ihrer letzten erfolgreichen Lieferung."),
        "held_todo": ("Wenn diese Angebote wirklich nicht mehr gelten, müssen Sie nichts tun. "
                      "Sonst prüfen Sie bitte, ob Ihr Export vollständig war, und liefern Sie erneut."),
        "held_rejected": ("In dieser Lieferung wurden {rejected} von {items} Angeboten abgelehnt; "
                          "das deutet auf ein Problem mit dem Export hin."),
        "held_why_rejected": ("Damit eine fehlerhafte Lieferung keine gute ersetzt, prüft das "
                              "Willkommenszentrum sie, bevor sie übernommen wird. Bis dahin zeigt "
                              "das Verzeichnis den Stand Ihrer letzten erfolgreichen Lieferung."),
        "held_todo_rejected": ("Bitte prüfen Sie Ihren Export, korrigieren Sie die abgelehnten "
                               "Angebote und liefern Sie erneut."),
        "technical": "Die Meldung des Systems (auf Englisch, für Ihre IT-Betreuung)",
        "csv_note": "Die Liste der Probleme gibt es auch als Tabelle (CSV, für Excel oder LibreOffice).",
        "more": "… und {n} weitere Probleme; alle stehen in der Tabelle (CSV).",
        "more_one": "… und 1 weiteres Problem; alle stehen in der Tabelle (CSV).",
        "csv_note_attached": ("Alle Probleme stehen auch in der Tabelle im Anhang ({name}, für Excel "
                              "oder LibreOffice)."),
        "more_attached": "… und {n} weitere Probleme; alle stehen in der Tabelle im Anhang ({name}).",
        "more_attached_one": "… und 1 weiteres Problem; alle stehen in der Tabelle im Anhang ({name}).",
        "footer": ("Diese Rückmeldung wurde automatisch vom Welcome Hub erstellt. "
                   "Bei Fragen wenden Sie sich bitte an Ihr Willkommenszentrum."),
        "footer_contact": ("Diese Rückmeldung wurde automatisch vom Welcome Hub erstellt. "
                           "Bei Fragen schreiben Sie an Ihr Willkommenszentrum: {address} "
                           "(oder antworten Sie auf diese E-Mail)."),
        "online": ("Diese und Ihre früheren Rückmeldungen finden Sie auch online: {url} "
                   "(mit dem Zugangsschlüssel, den Ihnen Ihr Willkommenszentrum gegeben hat)."),
        "sync_ref": "Lieferung Nr. {sync_id}",
        "subject_rejected": "Rückmeldung zu Ihrer Lieferung vom {date}: {parts}",
        "subject_clean": "Rückmeldung zu Ihrer Lieferung vom {date}: alle {accepted} angenommen",
        "subject_empty": "Rückmeldung zu Ihrer Lieferung vom {date}: keine Angebote enthalten",
        "subject_failed": "Ihre Lieferung vom {date} konnte nicht verarbeitet werden",
        "subject_held": "Ihre Lieferung vom {date} wird vor der Übernahme geprüft",
        "offer_one": "Angebot",
        "offer_many": "Angebote",
        "time_suffix": " Uhr",
    },
    "en": {
        "title": "Feedback on your delivery",
        "delivery_of": "delivery of {when}",
        "headline_ok": "Your delivery of {date}: {parts}.",
        "headline_all": "Your delivery of {date}: all {accepted} accepted.",
        "headline_empty": "Your delivery of {date} contained no offers.",
        "headline_failed": ("Your delivery of {date} could not be processed; "
                            "the directory keeps showing the last good state."),
        "headline_held": ("Your delivery of {date} is being reviewed before it is taken over; "
                          "the directory keeps showing the last good state."),
        "accepted": "accepted",
        "accepted_one": "accepted",
        "notes_title": "Notes on the file",
        "tips_title": "So that your offers are found",
        "tips_intro": ("Newcomers and the portals that show the directory search by these "
                       "details; most of your offers leave them out."),
        "col_filled": "given in your offers",
        "col_why": "Why it matters",
        "rejected": "rejected",
        "with_warnings": "with notes",
        "clean": ("Thank you! All offers arrived and are published in the directory. "
                  "There is nothing for you to do."),
        "empty": "The delivery contained no offers. None of your offers are in the directory at the moment.",
        "changes": "Compared with your last delivery: {parts}.",
        "no_changes": "Nothing changed since your last delivery.",
        "added": "{n} new",
        "changed": "{n} changed",
        "withdrawn": "{n} no longer included and taken out of the directory",
        "withdrawn_rejected": "{n} rejected now and therefore taken out of the directory",
        "corrected_one": "Among them {offers} rejected last time and corrected now.",
        "corrected_many": "Among them {offers} rejected last time and corrected now.",
        "todo": ("Please correct the entries listed below in your system. "
                 "The corrected offers are taken over with your next delivery."),
        "overview": "Overview",
        "col_problem": "Problem",
        "col_count": "Count",
        "col_rule": "Rule",
        "errors_title": "Rejected – not published",
        "errors_intro": "These offers do not appear in the directory until they are delivered corrected.",
        "warnings_title": "Notes – published, please check",
        "warnings_intro": "These offers are in the directory, but something in them looks wrong.",
        "col_id": "Record id",
        "col_line": "Line",
        "at_line": "line {n}",
        "col_title": "Title",
        "col_field": "Field",
        "col_value": "Value",
        "col_wrong": "What is wrong",
        "col_fix": "How to fix it",
        "col_severity": "Type",
        "col_field_name": "Field name (technical)",
        "directory_field": "field in the directory: {name}",
        "sev_error": "error",
        "sev_warning": "note",
        "no_id": "(no id)",
        "empty_value": "(empty)",
        "failed_title": "Your delivery could not be processed",
        "failed_what": ("The file could not be read: it is incomplete, damaged or not in the "
                        "agreed format."),
        "failed_empty": "The delivery contained no offers.",
        "failed_keep": ("The directory keeps showing the state of your last successful delivery; "
                        "nothing has been lost."),
        "failed_todo": ("Please check your export (complete? in the agreed format?) and deliver "
                        "again."),
        "held_title": "Your delivery is being reviewed",
        "held_what": ("This delivery would take {gone} of {active} published offers out of the "
                      "directory."),
        "held_what_generic": "This delivery would take an unusually large number of offers out of the directory.",
        "held_why": ("Because that is unusually many, the welcome center reviews the delivery "
                     "before it is taken over. Until then the directory shows the state of your "
                     "last successful delivery."),
        "held_todo": ("If these offers really are no longer valid, there is nothing for you to do. "
                      "Otherwise please check whether your export was complete and deliver again."),
        "held_rejected": ("{rejected} of the {items} offers in this delivery were rejected; "
                          "this points to a problem with the export."),
        "held_why_rejected": ("So that a faulty delivery does not replace a good one, the welcome "
                              "center reviews it before it is taken over. Until then the directory "
                              "shows the state of your last successful delivery."),
        "held_todo_rejected": ("Please check your export, correct the rejected offers and deliver "
                               "again."),
        "technical": "Technical detail (for your IT)",
        "csv_note": "The list of problems is also available as a table (CSV, for Excel or LibreOffice).",
        "more": "… and {n} more problems; the table (CSV) lists them all.",
        "more_one": "… and 1 more problem; the table (CSV) lists them all.",
        "csv_note_attached": ("All problems are also in the attached table ({name}, for Excel or "
                              "LibreOffice)."),
        "more_attached": "… and {n} more problems; the attached table ({name}) lists them all.",
        "more_attached_one": "… and 1 more problem; the attached table ({name}) lists them all.",
        "footer": ("This feedback was created automatically by the Welcome Hub. "
                   "If you have questions, please contact your welcome center."),
        "footer_contact": ("This feedback was created automatically by the Welcome Hub. "
                           "If you have questions, write to your welcome center: {address} "
                           "(or reply to this e-mail)."),
        "online": ("This and your earlier feedback are also online: {url} (with the access key "
                   "your welcome center gave you)."),
        "sync_ref": "delivery no. {sync_id}",
        "subject_rejected": "Feedback on your delivery of {date}: {parts}",
        "subject_clean": "Feedback on your delivery of {date}: all {accepted} accepted",
        "subject_empty": "Feedback on your delivery of {date}: no offers in it",
        "subject_failed": "Your delivery of {date} could not be processed",
        "subject_held": "Your delivery of {date} is being reviewed before it is taken over",
        "offer_one": "offer",
        "offer_many": "offers",
        "time_suffix": "",
    },
}


# a file checked before it is delivered (``hub check``): the same report, in the conditional,
# with no claim about the directory or an earlier delivery
TRIAL_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Prüfung Ihrer Datei vor der Lieferung",
        "delivery_of": "geprüft am {when}",
        "headline_ok": "Prüfung vom {date}: {parts}.",
        "headline_all": "Prüfung vom {date}: alle {accepted} würden angenommen.",
        "headline_empty": "Die am {date} geprüfte Datei enthält keine Angebote.",
        "headline_failed": "Die am {date} geprüfte Datei kann so nicht verarbeitet werden.",
        "headline_held": ("Die am {date} geprüfte Datei würde vor der Übernahme angehalten: "
                          "zu viele Angebote würden abgelehnt."),
        "accepted": "würden angenommen",
        "accepted_one": "würde angenommen",
        "rejected": "abgelehnt",
        "clean": "Die Datei ist in Ordnung: alle Angebote würden angenommen. Sie können sie so liefern.",
        "empty": ("Die Datei enthält keine Angebote. Eine leere Lieferung nimmt keine Angebote aus "
                  "dem Verzeichnis: es bliebe der Stand Ihrer letzten erfolgreichen Lieferung. "
                  "Wenn Sie keine Angebote mehr haben, sagen Sie es bitte Ihrem "
                  "Willkommenszentrum."),
        "todo": ("Bitte korrigieren Sie die unten genannten Angaben, bevor Sie die Datei liefern; "
                 "so geliefert, würden die abgelehnten Angebote nicht im Verzeichnis erscheinen."),
        "errors_title": "Abgelehnt – würden nicht veröffentlicht",
        "errors_intro": "Diese Angebote würden so nicht im Verzeichnis erscheinen.",
        "warnings_title": "Hinweise – würden veröffentlicht, bitte prüfen",
        "warnings_intro": "Diese Angebote würden im Verzeichnis erscheinen, aber eine Angabe sieht nicht richtig aus.",
        "failed_title": "Die Datei kann so nicht verarbeitet werden",
        "failed_keep": ("So geliefert, bliebe im Verzeichnis der Stand Ihrer letzten erfolgreichen "
                        "Lieferung."),
        "failed_todo": ("Bitte prüfen Sie Ihren Export (vollständig? im vereinbarten Format?) "
                        "und prüfen Sie die Datei erneut."),
        "held_title": "Die Datei würde angehalten",
        "held_rejected": ("In dieser Datei würden {rejected} von {items} Angeboten abgelehnt; "
                          "das deutet auf ein Problem mit dem Export hin."),
        "held_why_rejected": ("So geliefert, würde das Willkommenszentrum die Lieferung prüfen, "
                              "bevor sie übernommen wird, damit eine fehlerhafte Lieferung keine "
                              "gute ersetzt."),
        "held_todo_rejected": ("Bitte korrigieren Sie die abgelehnten Angebote und prüfen Sie die "
                               "Datei erneut, bevor Sie sie liefern."),
    },
    "en": {
        "title": "Check of your file before delivery",
        "delivery_of": "checked on {when}",
        "headline_ok": "Check of {date}: {parts}.",
        "headline_all": "Check of {date}: all {accepted} would be accepted.",
        "headline_empty": "The file checked on {date} contains no offers.",
        "headline_failed": "The file checked on {date} could not be processed.",
        "headline_held": ("The file checked on {date} would be held before it is taken over: "
                          "too many offers would be rejected."),
        "accepted": "would be accepted",
        "accepted_one": "would be accepted",
        "rejected": "rejected",
        "clean": "The file is fine: all offers would be accepted. You can deliver it as it is.",
        "empty": ("The file contains no offers. An empty delivery takes no offers out of the "
                  "directory: the state of your last successful delivery would stay. If you have "
                  "no offers any more, please tell your welcome center."),
        "todo": ("Please correct the entries listed below before you deliver the file; delivered "
                 "as it is, the rejected offers would not appear in the directory."),
        "errors_title": "Rejected – would not be published",
        "errors_intro": "These offers would not appear in the directory as they are.",
        "warnings_title": "Notes – would be published, please check",
        "warnings_intro": "These offers would appear in the directory, but an entry looks wrong.",
        "failed_title": "The file could not be processed",
        "failed_keep": ("Delivered as it is, the directory would keep showing the state of your "
                        "last successful delivery."),
        "failed_todo": ("Please check your export (complete? in the agreed format?) and check the "
                        "file again."),
        "held_title": "The file would be held",
        "held_rejected": ("{rejected} of the {items} offers in this file would be rejected; that "
                          "points to a problem with the export."),
        "held_why_rejected": ("Delivered as it is, the welcome center would review the delivery "
                              "before it is taken over, so that a faulty delivery does not "
                              "replace a good one."),
        "held_todo_rejected": ("Please correct the rejected offers and check the file again before "
                               "you deliver it."),
    },
}


def texts(report: "FeedbackReport") -> dict[str, str]:
    """The report's texts: its language's, in the conditional for a file checked before
    delivery."""
    if report.trial:
        return {**TEXTS[report.lang], **TRIAL_TEXTS[report.lang]}
    return TEXTS[report.lang]


def number(n: int, lang: str) -> str:
    """1234 -> '1.234' (de) / '1,234' (en)."""
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "de" else text


def offers(n: int, lang: str) -> str:
    """'1 Angebot', '3 Angebote' / '1 offer', '3 offers'."""
    t = TEXTS[lang]
    return f"{number(n, lang)} {t['offer_one'] if n == 1 else t['offer_many']}"


def local_time(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None:  # SQLite hands back naive datetimes: they are UTC
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(LOCAL_TZ)


def format_date(when: dt.datetime, lang: str) -> str:
    local = local_time(when)
    if lang == "de":
        return local.strftime("%d.%m.%Y")
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}"


def format_datetime(when: dt.datetime, lang: str) -> str:
    local = local_time(when)
    # '09:15 Uhr' is German time to a German reader; in English the zone is said ('09:15 CET')
    zone = "" if lang == "de" else f" {local.tzname()}"
    return f"{format_date(when, lang)}, {local:%H:%M}{TEXTS[lang]['time_suffix']}{zone}"


def _result_parts(counts: Counts, lang: str, t: dict[str, str]) -> list[str]:
    verb = t["accepted_one"] if counts.accepted == 1 else t["accepted"]
    parts = [f"{offers(counts.accepted, lang)} {verb}"]
    if counts.rejected:
        parts.append(f"{number(counts.rejected, lang)} {t['rejected']}")
    if counts.warnings:
        parts.append(f"{number(counts.warnings, lang)} {t['with_warnings']}")
    return parts


def headline(report: FeedbackReport) -> str:
    """'Ihre Lieferung vom 03.11.2026: 118 Angebote angenommen, 3 abgelehnt, 2 mit Hinweisen.'"""
    t, lang, c = texts(report), report.lang, report.counts
    date = format_date(report.delivered_at, lang)
    if report.status != "ok":
        return t[f"headline_{report.status}"].format(date=date)
    if c.items == 0 and c.accepted == 0:
        return t["headline_empty"].format(date=date)
    if not c.rejected and not c.warnings and c.accepted != 1:  # not 'all 1 offer'
        return t["headline_all"].format(date=date, accepted=offers(c.accepted, lang))
    return t["headline_ok"].format(date=date, parts=", ".join(_result_parts(c, lang, t)))


def subject(report: FeedbackReport) -> str:
    """The e-mail subject: 'Rückmeldung zu Ihrer Lieferung vom 03.11.2026: 3 Angebote
    abgelehnt (Stellenangebote)'; the date tells a partner's daily mails apart in a list."""
    t, lang, c = TEXTS[report.lang], report.lang, report.counts
    noun = DOMAIN_NOUNS[lang][report.domain]
    date = format_date(report.delivered_at, lang)
    if report.status != "ok":
        text = t[f"subject_{report.status}"].format(date=date)
    elif c.items == 0 and c.accepted == 0:
        text = t["subject_empty"].format(date=date)
    elif not c.rejected and not c.warnings:
        text = t["subject_clean"].format(date=date, accepted=offers(c.accepted, lang))
    else:
        parts = []
        if c.rejected:
            parts.append(f"{offers(c.rejected, lang)} {t['rejected']}")
        if c.warnings:
            lead = number(c.warnings, lang) if parts else offers(c.warnings, lang)
            parts.append(f"{lead} {t['with_warnings']}")
        text = t["subject_rejected"].format(date=date, parts=", ".join(parts))
    return f"{text} ({noun})"


def changes_line(report: FeedbackReport) -> str | None:
    if (report.trial or report.first_delivery or report.status != "ok"
            or (report.counts.items == 0 and report.counts.accepted == 0)):
        return None
    t, c, lang = TEXTS[report.lang], report.counts, report.lang
    # a snapshot withdraws what it does not accept: a record still delivered but rejected now
    # is not 'no longer included'
    gone = max(0, c.withdrawn - c.withdrawn_rejected)
    counts = {"added": c.added, "changed": c.changed, "withdrawn": gone,
              "withdrawn_rejected": min(c.withdrawn_rejected, c.withdrawn)}
    parts = [t[key].format(n=number(n, lang)) for key, n in counts.items() if n]
    if not parts:
        return t["no_changes"]
    line = t["changes"].format(parts=", ".join(parts))
    if c.corrected:
        key = "corrected_one" if c.corrected == 1 else "corrected_many"
        line += " " + t[key].format(offers=offers(c.corrected, lang))
    return line


# the words of hub.pipeline.Hold.message, by guard
_HELD_WITHDRAWAL = re.compile(r"withdraw (\d+) of (\d+)")
_HELD_REJECTIONS = re.compile(r"(\d+) of the (\d+) records of this delivery were rejected")


# why a delivery was unusable, in the partner's words: the pattern of the format's one-line
# message (hub.formats) -> (German, English) sentence, the message's groups filled in
# hub.formats.base.BINARY_FILES in the partner's words: what the file is in German, and what
# to do in German and English
_PICTURE = ("verwenden Sie die Datei, die Ihr Programm exportiert, kein Bild davon",
            "use the file your program exports, not a picture of it")
_PRINTOUT = ("verwenden Sie die Datei, die Ihr Programm exportiert, keinen Ausdruck davon",
             "use the file your program exports, not a printout of it")
_ARCHIVE = ("entpacken Sie sie und verwenden Sie die Datei darin", "unpack it and use the file inside")
_NOT_TEXT = (
    ("a PNG image", "ein PNG-Bild", _PICTURE),
    ("a JPEG image", "ein JPEG-Bild", _PICTURE),
    ("a GIF image", "ein GIF-Bild", _PICTURE),
    ("a PDF document", "ein PDF-Dokument", _PRINTOUT),
    ("a gzip archive (.gz)", "ein gzip-Archiv (.gz)", _ARCHIVE),
    ("a ZIP archive", "ein ZIP-Archiv", _ARCHIVE),
    ("a 7-Zip archive", "ein 7-Zip-Archiv", _ARCHIVE),
    ("an xz archive (.xz)", "ein xz-Archiv (.xz)", _ARCHIVE),
)

_UNUSABLE_REASONS: list[tuple[re.Pattern, str, str]] = [
    # hub check's words, and a sync's, which add what the registry says
    *((re.compile(rf"required column\(s\) missing.*; the file reads as csv-{kind}"
                  r"(?: \(the registry's format: .*\))?$"),
       f"Die Datei passt nicht zu dieser Vorlage, aber zur Vorlage für {german}: prüfen Sie, ob "
       "Sie die richtige Vorlage gewählt haben.",
       f"The file does not fit this template, but the template for {english}: check that you "
       "chose the right one.")
      for kind, german, english in (("jobs", "Stellenangebote", "job offers"),
                                    ("courses", "Kursangebote", "courses"),
                                    ("housing", "Wohnungsangebote", "housing"))),
    (re.compile(r"required column\(s\) missing in line (\d+) \(the row most like a header\): (.+)$"),
     "Zeile {0} sieht am ehesten wie die Zeile der Spaltennamen aus; ihr fehlen Pflichtspalten: "
     "{1}.",
     "Line {0} looks most like the row of column names; it lacks required columns: {1}."),
    (re.compile(r"required column\(s\) missing: (.+)$"),
     "Es fehlen Pflichtspalten: {0}.", "Required columns are missing: {0}."),
    (re.compile(r"invalid XML at line (\d+) column \d+: .*a '&' in a text must be written"),
     "In Zeile {0} steht ein '&' im Text; in XML muss es '&amp;' geschrieben werden (z. B. "
     "'Müller &amp; Söhne'). Ihre Software tut das normalerweise selbst: bitte prüfen Sie den "
     "Export.",
     "Line {0} holds a '&' in a text; XML needs it written '&amp;' (e.g. 'Müller &amp; "
     "Söhne'). Your software normally does that itself: please check the export."),
    (re.compile(r"invalid XML at line (\d+) column \d+: .*not in the encoding the XML declaration"),
     "Ab Zeile {0} passen die Zeichen nicht zur Kodierung, die die Datei in ihrer ersten Zeile "
     "angibt (ohne Angabe: UTF-8). Exportieren Sie als UTF-8, oder geben Sie die Kodierung an, "
     "in der die Datei geschrieben ist (z. B. encoding=\"windows-1252\").",
     "From line {0} the characters do not fit the encoding the file declares in its first "
     "line (UTF-8 when it declares none). Export as UTF-8, or declare the encoding the file is "
     "written in (e.g. encoding=\"windows-1252\")."),
    (re.compile(r"line (\d+): a quote"),
     "In Zeile {0} öffnet ein Anführungszeichen (\") eine Zelle, das nicht wieder geschlossen "
     "wird; die Zeilen danach wären sonst verloren gegangen.",
     "In line {0} a quote (\") opens a cell and is never closed; the rows after it would "
     "otherwise have been lost."),
    (re.compile(r"spreadsheet workbook"),
     "Die Datei ist eine Arbeitsmappe (Excel oder LibreOffice), keine CSV-Datei; speichern Sie "
     "sie mit 'Speichern unter' als 'CSV UTF-8' oder 'CSV (Trennzeichen-getrennt)'.",
     "The file is a spreadsheet workbook (Excel or LibreOffice), not CSV; use 'Save as' and "
     "choose 'CSV UTF-8' or 'CSV (comma delimited)'."),
    # a web page saved as the file: uploaded into an inbox or checked with hub check FILE
    # (hub.formats.base.WebPageError.saved)
    (re.compile(r"the file is a saved web page \(HTML, title '(.*)'\), not (\w+);"),
     "Die Datei ist eine gespeicherte Webseite (HTML) mit dem Titel '{0}', keine {1}-Datei. "
     "Oft ist das eine Anmelde- oder Fehlerseite, die statt des Exports gespeichert wurde: "
     "verwenden Sie die Datei, die Ihr Programm exportiert, nicht eine im Browser gespeicherte "
     "Seite.",
     "The file is a saved web page (HTML) titled '{0}', not the {1} export. Often it is a login "
     "or error page saved in place of the export: use the file your program exports, not a "
     "page saved from the browser."),
    (re.compile(r"the file is a saved web page \(HTML\), not (\w+);"),
     "Die Datei ist eine gespeicherte Webseite (HTML), keine {0}-Datei. Oft ist das eine "
     "Anmelde- oder Fehlerseite, die statt des Exports gespeichert wurde: verwenden Sie die "
     "Datei, die Ihr Programm exportiert, nicht eine im Browser gespeicherte Seite.",
     "The file is a saved web page (HTML), not the {0} export. Often it is a login or error page "
     "saved in place of the export: use the file your program exports, not a page saved from "
     "the browser."),
    # a web server's login or error page where the data should be (hub.formats.base.web_page)
    (re.compile(r"the file is a web page \(HTML, title '(.*)'\), not (\w+);"),
     "Die Datei ist eine Webseite (HTML) mit dem Titel '{0}', keine {1}-Datei. Oft liefert die "
     "Adresse eine Anmelde- oder Fehlerseite statt der Daten: prüfen Sie, ob sie ohne "
     "Anmeldung die Datei selbst liefert.",
     "The file is a web page (HTML) titled '{0}', not the {1} export. Often the address gives a "
     "login or error page instead of the data: check that it gives the file itself without "
     "logging in."),
    (re.compile(r"the file is a web page \(HTML\), not (\w+);"),
     "Die Datei ist eine Webseite (HTML), keine {0}-Datei. Oft liefert die Adresse eine "
     "Anmelde- oder Fehlerseite statt der Daten: prüfen Sie, ob sie ohne Anmeldung die Datei "
     "selbst liefert.",
     "The file is a web page (HTML), not the {0} export. Often the address gives a login or error "
     "page instead of the data: check that it gives the file itself without logging in."),
    (re.compile(r"HTML page without JSON-LD(?: \(title '.*'\))?: it marks up schema.org (.+) as "
                r"Microdata or RDFa"),
     "Die Webseite enthält ihre Angebote als schema.org-Microdata oder -RDFa ({0}); der Hub liest "
     "schema.org-Daten als JSON-LD: ergänzen Sie die Seite um einen Block <script "
     "type=\"application/ld+json\"> mit den Angeboten (die meisten Karriere- und "
     "Kursseiten-Programme können das).",
     "The web page holds its offers as schema.org Microdata or RDFa ({0}); the hub reads "
     "schema.org data as JSON-LD: add a <script type=\"application/ld+json\"> block with the "
     "offers to the page (most careers and course page software can)."),
    (re.compile(r"no schema.org (.+?) found \(.*\); skipped: JSON-LD block (\d+) of (\d+): "
                r"invalid JSON at line (\d+) column (\d+) of the page"),
     "Die Seite enthält kein lesbares {0}: der JSON-LD-Block {1} von {2} ist kein gültiges JSON "
     "(Zeile {3}, Spalte {4} der Seite); prüfen Sie dort Kommas, Klammern und "
     "Anführungszeichen.",
     "The page holds no readable {0}: JSON-LD block {1} of {2} is not valid JSON (line {3}, "
     "column {4} of the page); check the commas, brackets and quotes there."),
    (re.compile(r"HTML page without JSON-LD \(title '(.*)'\):"),
     "Die Webseite mit dem Titel '{0}' enthält keine Angebote als schema.org-Daten (keinen "
     "Block <script type=\"application/ld+json\">). Ist es die richtige Seite, und zeigt sie "
     "die Angebote ohne Anmeldung?",
     "The web page titled '{0}' holds no offers as schema.org data (no <script "
     "type=\"application/ld+json\"> block). Is it the right page, and does it show the offers "
     "without logging in?"),
    (re.compile(r"HTML page without JSON-LD:"),
     "Die Webseite enthält keine Angebote als schema.org-Daten (keinen Block <script "
     "type=\"application/ld+json\">). Ist es die richtige Seite, und zeigt sie die Angebote "
     "ohne Anmeldung?",
     "The web page holds no offers as schema.org data (no <script type=\"application/ld+json\"> "
     "block). Is it the right page, and does it show the offers without logging in?"),
    # a picture, a printout or an archive in place of the export (hub.formats.base.BINARY_FILES)
    *((re.compile(rf"the file is {re.escape(kind)}, not (\w+);"),
       f"Die Datei ist {german}, keine {{0}}-Datei; {todo_de}.",
       f"The file is {kind}, not the {{0}} file expected; {todo_en}.")
      for kind, german, (todo_de, todo_en) in _NOT_TEXT),
    # a JSON document (hub.formats.jsondoc): no 'CSV UTF-8' to save it as
    (re.compile(r"not UTF-8 text|where JSON is read as UTF-8"),
     "Die Datei ist nicht als UTF-8 gespeichert; exportieren oder speichern Sie sie als UTF-8.",
     "The file is not saved as UTF-8; export or save it as UTF-8."),
    (re.compile(r"(?:UTF-16|neither UTF-8 nor Windows-1252)"),  # the CSV templates
     "Die Datei ist nicht als UTF-8 (oder Windows-1252) gespeichert; speichern Sie sie als "
     "'CSV UTF-8'.",
     "The file is not saved as UTF-8 (or Windows-1252); save it as 'CSV UTF-8'."),
    (re.compile(r"invalid (JSON|XML) at line (\d+) column (\d+)"),
     "Die Datei ist kein gültiges {0} (Zeile {1}, Spalte {2}); oft ist sie nicht vollständig "
     "übertragen worden.",
     "The file is not valid {0} (line {1}, column {2}); often it was not transferred completely."),
    (re.compile(r"declares XML entities"),
     "Die Datei deklariert XML-Entities (DOCTYPE mit ENTITY); solche Dateien nimmt der Hub aus "
     "Sicherheitsgründen nicht an.",
     "The file declares XML entities (DOCTYPE with ENTITY); the hub refuses such files for "
     "security reasons."),
    (re.compile(r"the input is empty|no header row"),
     "Die Datei ist leer oder hat keine Kopfzeile.", "The file is empty or has no header row."),
]


# what the formats say of an item they cannot read (RECORD_UNREADABLE), in German
_KINDS_DE = {"a number": "eine Zahl", "a string": "ein Text", "a list": "eine Liste",
             "a boolean": "ein Wahrheitswert", "null": "leer (null)", "an object": "ein Objekt"}
_UNREADABLE_DE: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"^(.*) is (a number|a string|a list|a boolean|null|an object), not an object$"),
     lambda m: f"{m[1] or 'die Eingabe'} ist {_KINDS_DE[m[2]]}, kein Objekt"),
    (re.compile(r"^JSON-LD block (\d+) of (\d+): invalid JSON at line (\d+) column (\d+) of the page.*$"),
     lambda m: f"JSON-LD-Block {m[1]} von {m[2]}: kein gültiges JSON (Zeile {m[3]}, Spalte {m[4]} "
               "der Seite)"),
    (re.compile(r"^JSON-LD block (\d+) of (\d+): invalid JSON at line (\d+) column (\d+).*$"),
     lambda m: f"JSON-LD-Block {m[1]} von {m[2]}: kein gültiges JSON (Zeile {m[3]}, Spalte {m[4]})"),
    (re.compile(r"^JSON-LD block (\d+) of (\d+): invalid JSON.*$"),
     lambda m: f"JSON-LD-Block {m[1]} von {m[2]}: kein gültiges JSON"),
]


def unreadable_de(value: str) -> str:
    """An item's RECORD_UNREADABLE detail in German, where it is one of the common ones."""
    for pattern, words in _UNREADABLE_DE:
        found = pattern.match(value)
        if found:
            return words(found)
    return value


def unusable_reason(message: str, lang: str) -> str | None:
    """The reason of an unusable delivery as a sentence for the partner, where the format's
    message is one of the common ones; else None (the technical line stands alone)."""
    for pattern, german, english in _UNUSABLE_REASONS:
        found = pattern.search(message)
        if found:
            return (german if lang == "de" else english).format(*found.groups())
    return None


def _held_what(message: str, t: dict[str, str], lang: str) -> tuple[str, str]:
    """What a hold means for the partner, and which of the texts explain it further:
    ('withdrawal' | 'rejected' | 'generic')."""
    withdrawal = _HELD_WITHDRAWAL.search(message)
    if withdrawal:
        return t["held_what"].format(gone=number(int(withdrawal[1]), lang),
                                     active=number(int(withdrawal[2]), lang)), "withdrawal"
    rejections = _HELD_REJECTIONS.search(message)
    if rejections:
        return t["held_rejected"].format(rejected=number(int(rejections[1]), lang),
                                         items=number(int(rejections[2]), lang)), "rejected"
    return t["held_what_generic"], "generic"


def status_explanation(report: FeedbackReport) -> list[str]:
    """For a failed or held delivery: what happened, what it means, what to do (paragraphs)."""
    t = texts(report)
    message = report.status_message or ""
    if report.status == "failed":
        what = t["failed_empty"] if "feed is empty" in message else t["failed_what"]
        reason = unusable_reason(message, report.lang)
        return [what, *([reason] if reason else []), t["failed_keep"], t["failed_todo"]]
    if report.status == "held":
        what, kind = _held_what(message, t, report.lang)
        if kind == "rejected":
            return [what, t["held_why_rejected"], t["held_todo_rejected"]]
        return [what, t["held_why"], t["held_todo"]]
    return []


def status_line(status: str, message: str | None, lang: str) -> str | None:
    """A delivery's status message in the partner's words (the stored message is written for
    stewards: English, with hub commands); None for a delivery without one."""
    t, message = TEXTS[lang], message or ""
    if status == "failed":
        return unusable_reason(message, lang) or (
            t["failed_empty"] if "feed is empty" in message else t["failed_what"])
    if status == "held":
        return _held_what(message, t, lang)[0]
    return None


# --------------------------------------------------------------------------- building


def _mapping(row: Any) -> Mapping[str, Any]:
    """A SQLAlchemy row, a dict, a pydantic model or a plain object, read by key."""
    if hasattr(row, "_mapping"):
        return row._mapping
    if isinstance(row, Mapping):
        return row
    if isinstance(row, BaseModel):
        return row.model_dump()
    return vars(row)


class _Words(dict):
    """Placeholders a message template does not know stay empty instead of failing."""

    def __missing__(self, key: str) -> str:
        return ""


# an amount in euro ('3500 €', '12.5 €') or, in German, a decimal ('70.21', '3000.0')
_SHOWN_NUMBER = re.compile(r"(?<![\d.,])(\d+)(?:\.(\d+))?(?= €)|(?<![\d.,])(\d+)\.(\d+)(?![\d.])")
_PERIOD = re.compile(r"/ (hour|month|year)\b")
_PERIOD_DE = {"hour": "Stunde", "month": "Monat", "year": "Jahr"}
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MACHINE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def display_value(value: str | None, lang: str) -> str | None:
    """A checked value as the report's reader writes it: amounts in euro with their thousands
    marked and cents in full ('3500 € > 3000 €' -> '3.500 € > 3.000 €' in German, '3,500 € >
    3,000 €' in English; '12.5 €' -> '12,50 €' / '12.50 €'); in German also decimals with a
    comma and no '.0' ('3000.0' -> '3000', '70.21' -> '70,21'), days as 30.10.2026 and a
    salary's period in German ('2 / Stunde'); English keeps the point and ISO days. Other
    integers are left alone (a year, a postal code or an id is one)."""
    if not value:
        return value
    german = lang == "de"

    def number(match: re.Match) -> str:
        if match.group(1) is not None:  # euro
            whole, fraction = f"{int(match.group(1)):,}", (match.group(2) or "").rstrip("0")
            cents = f".{fraction.ljust(2, '0')}" if fraction else ""
            shown = whole + cents
            return shown.translate(str.maketrans(",.", ".,")) if german else shown
        if not german:
            return match.group(0)
        whole, fraction = match.group(3), match.group(4).rstrip("0")
        return f"{whole},{fraction}" if fraction else whole

    value = _SHOWN_NUMBER.sub(number, value)
    if not german:
        return value
    value = _PERIOD.sub(lambda m: "/ " + _PERIOD_DE[m.group(1)], value)
    return _ISO_DAY.sub(r"\3.\2.\1", value)


def _number_sent(value: str | None, field: str | None) -> str | None:
    """A number the partner sent for a field of numbers that the model refused (a negative
    rent: '-50', read from '-50,00'), written as the checks write theirs, so that
    ``display_value`` shows it as the reader writes numbers ('-50 €', '-2,5'); else None."""
    kind = _HINT_KINDS.get((field or "").rsplit(".", 1)[-1])
    if not value or kind not in ("amount", "number", "count") or not _MACHINE_NUMBER.fullmatch(value):
        return None
    return f"{value} €" if kind == "amount" else value


def _format(name: str | None):
    """The partner's format (its names for the fields, the words it reads), or None."""
    if not name:
        return None
    from hub.formats import FORMATS

    return FORMATS.get(name)


# notes on the file as a whole, not on an offer: no offer counts as 'with notes' for them
_FILE_NOTES = {"CSV_COLUMN_UNKNOWN", "CSV_COLUMN_REPEATED", "CSV_HEADER_NOT_FIRST"}

# what a value of a kind of field must look like, for an invalid one (the rule's own hint
# only says to check spelling and format)
_DATE_FIELDS = {"start_date", "end_date", "valid_through", "published_from", "available_from"}
_AMOUNT_FIELDS = {"salary_min", "salary_max", "price_eur", "cold_rent", "warm_rent",
                  "service_charges", "heating_costs", "deposit"}
_INVALID_HINTS = {
    "date": ("Schreiben Sie das Datum als TT.MM.JJJJ mit vierstelligem Jahr (z. B. 01.08.2027); "
             "den Tag muss es im Kalender geben.",
             "Write the date as DD.MM.YYYY with a four-digit year (e.g. 01.08.2027); the day "
             "must exist in the calendar."),
    "moment": ("Schreiben Sie das Datum als TT.MM.JJJJ, mit Uhrzeit als TT.MM.JJJJ HH:MM "
               "(z. B. 01.08.2027 09:30).",
               "Write date and time as DD.MM.YYYY HH:MM or in ISO 8601 (2027-08-01T09:30)."),
    "amount": ("Geben Sie einen Betrag in Euro an, nur mit Ziffern und Komma (z. B. 1.250,50); "
               "Text wie 'auf Anfrage' lassen Sie leer.",
               "Give an amount in euro, digits and a decimal comma only (e.g. 1.250,50); leave "
               "words such as 'on request' out."),
    "url": ("Geben Sie eine vollständige Adresse an, die mit https:// beginnt.",
            "Give a complete address starting with https://."),
    "ags": ("Der Gemeindeschlüssel (AGS) hat acht Ziffern, mit führender Null (z. B. 10043114 "
            "Neunkirchen, 05170024 Moers); ist er nicht bekannt, lassen Sie das Feld leer.",
            "The municipality key (AGS) has eight digits, with its leading zero (e.g. 10043114 "
            "Neunkirchen, 05170024 Moers); if it is not known, leave the field empty."),
    "number": ("Geben Sie eine Zahl an (z. B. 2,5 oder 58,4), ohne Text davor oder danach.",
               "Give a number (e.g. 2,5 or 58,4), without words before or after it."),
    "count": ("Geben Sie eine ganze Zahl an (z. B. 12; 0 für keine).",
              "Give a whole number (e.g. 12; 0 for none)."),
    "floor": ("Geben Sie das Geschoss als Zahl an: 0 für das Erdgeschoss, 1 für das 1. OG, "
              "-1 für das Untergeschoss.",
              "Give the storey as a number: 0 for the ground floor, 1 for the first floor, -1 "
              "for the basement."),
    "negative": ("Der Wert darf nicht negativ sein: geben Sie ihn ohne Minuszeichen an, oder "
                 "lassen Sie das Feld leer, wenn er nicht bekannt ist.",
                 "The value cannot be negative: give it without a minus sign, or leave the "
                 "field empty if it is not known."),
    "yes_no": ("Schreiben Sie ja oder nein; ist es nicht bekannt, lassen Sie das Feld leer.",
               "Write ja (yes) or nein (no); if it is not known, leave the field empty."),
}
# the last part of a field's name -> the kind of value its hint describes
_HINT_KINDS = {
    **dict.fromkeys(_DATE_FIELDS, "date"), "updated_at": "moment",
    **dict.fromkeys(_AMOUNT_FIELDS, "amount"), "url": "url", "municipality_key": "ags",
    **dict.fromkeys(("rooms", "living_area", "lat", "lon"), "number"),
    **dict.fromkeys(("seats", "max_persons"), "count"), "floor": "floor",
    "negative": "negative",
    **dict.fromkeys(("childcare", "funded", "wbs_required", "barrier_free", "remote_possible",
                     "public"), "yes_no"),
}


# fields that take several words of their list
_LIST_FIELDS = {"working_time", "schedule", "cefr_levels"}


def _words_hint(field: str | None, words: Mapping[str, tuple], lang: str) -> str | None:
    """For a field with a closed list (a CSV template's Art, Arbeitszeit, Kursart, ...): the
    words the format reads."""
    allowed = words.get(field or "")
    if not allowed:
        return None
    listed = ", ".join(allowed)
    if field in _LIST_FIELDS:
        return (f"Schreiben Sie eines oder mehrere dieser Wörter, mit Komma getrennt: {listed}."
                if lang == "de" else f"Write one or more of these words, separated by commas: {listed}.")
    return (f"Schreiben Sie eines dieser Wörter: {listed}." if lang == "de"
            else f"Write one of these words: {listed}.")


# the same for the machine formats (JSON, XML), which write dates as their standards do
_MACHINE_HINTS = {
    "date": ("Schreiben Sie das Datum als JJJJ-MM-TT (ISO 8601, z. B. 2027-08-01); den Tag "
             "muss es im Kalender geben.",
             "Write the date as YYYY-MM-DD (ISO 8601, e.g. 2027-08-01); the day must exist in "
             "the calendar."),
    "moment": ("Schreiben Sie Datum und Uhrzeit nach ISO 8601 (z. B. 2027-08-01T09:30:00+02:00).",
               "Write date and time in ISO 8601 (e.g. 2027-08-01T09:30:00+02:00)."),
}


def _invalid_value_hint(field: str | None, lang: str, fmt=None) -> str | None:
    kind = _HINT_KINDS.get((field or "").rsplit(".", 1)[-1])
    if kind is None:
        return None
    machine = fmt is not None and not fmt.names_are_labels  # not one of the CSV templates
    german, english = (_MACHINE_HINTS if machine and kind in _MACHINE_HINTS else _INVALID_HINTS)[kind]
    return german if lang == "de" else english


def _partners_name(field: str | None, label: str | None, own: str, fmt, lang: str) -> str:
    """A field named as the partner knows it: ``own`` (the format's name for it) alone where
    it is the label (a CSV template's column in a German report), the id (what partners most
    often leave out) or the same word; else after the hub's ``label`` ('PLZ (geo/plz)'; a
    CSV template's German column heads follow the English label in an English report)."""
    alone = (fmt.names_are_labels and lang == "de") or field == "source_id" or not label \
        or own.casefold() == label.casefold()
    return own if alone else f"{label} ({own})"


# rules whose message the reader words for the case where it knows more than the field and
# the value (RECORD_ID_DUPLICATE: the two providers of a repeated id, DUPLICATE_OTHER_PROVIDER)
_TAILORED = {"RECORD_ID_DUPLICATE"}


def _tailored(row: Mapping[str, Any], rule) -> bool:
    """Whether the stored message of ``row`` is one its reader wrote for the case rather than
    the catalogue's words: it stays as stored (in the report's language; the hint is the
    catalogue's)."""
    if row["rule"] not in _TAILORED or not row.get("message") or not row.get("message_en"):
        return False
    words = _Words(field=row.get("field") or "", value=row.get("value") or "")
    return row["message"] != rule.message_de.format_map(words)


def _delivered_name(own: str | None, headers: Mapping[str, str] | None) -> str | None:
    """The format's name of a field (``own``: a CSV template's column, 'PLZ') as the delivery
    wrote it, where it used another usual name for it ('Postleitzahl': ``ParseResult.headers``,
    ``syncs.headers``): the partner looks for the column its file has."""
    return (headers or {}).get(own, own) if own else own


def _problem(row: Mapping[str, Any], domain: str, lang: str, fmt=None,
             headers: Mapping[str, str] | None = None) -> Problem:
    """One rejection row for the report; ``fmt``: the partner's Format (its names for the
    fields and the words it reads), None where unknown; ``headers``: the columns the delivery
    wrote under another usual name (``_delivered_name``)."""
    field = row.get("field")
    # the partner's own name for the field: alone where it is its label (a CSV column) or the
    # id (what partners most often leave out), else after the model's label ('PLZ (geo/plz)')
    # (a note on the file names a column of it in its 'field': shown as it is)
    label = field if row["rule"] in _FILE_NOTES else field_label(field, domain, lang)
    own = _delivered_name(fmt.field_names.get(field or ""), headers) \
        if fmt is not None and row["rule"] not in _FILE_NOTES else None
    if own:
        label = _partners_name(field, label, own, fmt, lang)
    rule = RULES.get(row["rule"])
    # values the checks computed read as the partner writes numbers and days; a value the
    # partner sent that could not be read is shown exactly as sent ('2.800,00' stays)
    semantic = rule is not None and rule.layer == "semantic"
    number_sent = _number_sent(row.get("value"), field) if row["rule"] == "RECORD_FIELD_INVALID" \
        else None
    value = display_value(number_sent or row.get("value"), lang) if semantic or number_sent \
        else row.get("value")
    if row["rule"] == "RECORD_UNREADABLE" and lang == "de" and value:
        value = unreadable_de(value)
    severity = "error" if row.get("severity", "error") == "error" else "warning"
    stored_message = row.get("message") if lang == "de" else row.get("message_en")
    message, hint = stored_message or row.get("message") or "", row.get("hint")
    if rule is not None:
        # the catalogue's words, with the field named as people know it
        words = _Words(field=label or "", value="" if value is None else value)
        template = rule.message_de if lang == "de" else rule.message_en
        # English hints where the catalogue has them; else the stored (German) hint stays
        hint_template = rule.hint_de if lang == "de" else getattr(rule, "hint_en", None)
        try:
            message = template.format_map(words)
            if hint_template:
                hint = hint_template.format_map(words)
        except (ValueError, IndexError, AttributeError):
            pass  # a template the formatter cannot fill: keep the stored words
        if _tailored(row, rule):
            message = stored_message
        if row["rule"] == "RECORD_FIELD_INVALID":
            words = fmt.field_words if fmt is not None else {}
            hint = _words_hint(field, words, lang) or _invalid_value_hint(
                "negative" if (number_sent or "").startswith("-") else field, lang, fmt) or hint
    return Problem(
        source_id=row.get("source_id"),
        title=row.get("title"),
        line=row.get("line"),
        field=field,
        field_label=label,
        format_field=own or None,
        value=value,
        rule=row["rule"],
        severity=severity,
        message=message,
        hint=hint or None,
    )


def _summary_message(code: str, problems: list[Problem], lang: str) -> str:
    messages = {p.message for p in problems}
    if len(messages) == 1:
        return problems[0].message
    rule = RULES.get(code)
    if rule is None:
        return problems[0].message
    # the fields in the order found, as the template quotes them: 'PLZ' / 'Titel'
    labels = list(dict.fromkeys(p.field_label for p in problems if p.field_label))
    shown = labels[:3] + (["…"] if len(labels) > 3 else [])
    words = _Words(field="' / '".join(shown) if shown else "…", value="…")
    try:
        return (rule.message_de if lang == "de" else rule.message_en).format_map(words)
    except (ValueError, IndexError, AttributeError):
        return problems[0].message


# fields newcomers and portals search by, per domain: (the field whose filling counts, the
# field the format names it by, why it matters and what to write (de, en)); a tip is given
# when fewer than half of the accepted offers fill it and the format has a place for it
FINDABLE: dict[str, list[tuple[str, str, tuple[str, str]]]] = {
    "jobs": [
        ("german_required", "german_level", (
            "Zugewanderte suchen gezielt nach Stellen, für die ihr Deutsch reicht: geben Sie "
            "das Niveau an (z. B. B1) oder 'keine', wenn keine Deutschkenntnisse nötig sind.",
            "Newcomers search for jobs their German is good enough for: give the level (e.g. "
            "B1), or 'keine' when no German is needed.")),
        ("working_time", "working_time", (
            "Portale filtern nach Vollzeit, Teilzeit, Schicht oder Minijob: geben Sie die "
            "Arbeitszeit an.",
            "Portals filter by full time, part time, shifts or mini job: give the working time.")),
    ],
    "courses": [
        ("cefr_levels", "cefr_levels", (
            "Wer einen Kurs sucht, sucht ihn für sein Niveau: geben Sie das Sprachniveau an "
            "(z. B. A1-B1).",
            "People look for a course at their level: give the language level (e.g. A1-B1).")),
        ("start_date", "start_date", (
            "Portale zeigen Kurse nach ihrem Beginn: geben Sie das Datum an (TT.MM.JJJJ).",
            "Portals list courses by their start: give the date (DD.MM.YYYY).")),
        ("childcare", "childcare", (
            "Eltern suchen gezielt Kurse mit Kinderbetreuung: schreiben Sie ja oder nein.",
            "Parents look for courses with childcare: write ja (yes) or nein (no).")),
    ],
    "housing": [
        ("rooms", "rooms", (
            "Wohnungssuchende filtern nach der Zahl der Zimmer: geben Sie sie an (z. B. 2,5).",
            "People filter flats by their number of rooms: give it (e.g. 2,5).")),
        ("available_from", "available_from", (
            "Wohnungssuchende fragen zuerst, ab wann sie einziehen können: geben Sie ein Datum "
            "an oder 'sofort'.",
            "People ask first when they can move in: give a date or 'sofort' (at once).")),
        ("wbs_required", "wbs_required", (
            "Wer einen Wohnberechtigungsschein hat, sucht danach, wer keinen hat, muss "
            "Wohnungen mit WBS ausschließen können: schreiben Sie ja oder nein.",
            "People with a housing entitlement certificate (WBS) search for such flats, those "
            "without one must leave them out: write ja (yes) or nein (no).")),
    ],
}
TIP_BELOW = 0.5  # a field filled in fewer than this share of the accepted offers gets a tip
# fields answered in words as well: a flat free 'sofort' fills available_from_text, not the
# date, and its partner was told to write a date or 'sofort'
ANSWERED_IN_WORDS = {"available_from": ("available_from_text",)}


def findability_tips(domain: str, coverage: Mapping[str, float] | None, fmt, lang: str,
                     headers: Mapping[str, str] | None = None) -> list[Tip]:
    """The tips for a delivery whose accepted offers fill each field in the share
    ``coverage`` gives (``syncs.field_coverage``; None or empty: nothing was accepted);
    ``fmt``: the delivery's Format (a tip only where it names the field); ``headers``: the
    columns the delivery wrote under another name (``_delivered_name``)."""
    if not coverage or fmt is None:
        return []
    tips = []
    for field, named, why in FINDABLE.get(domain, []):
        own = _delivered_name(fmt.field_names.get(named), headers)
        filled = max(float(coverage.get(name, 0.0))
                     for name in (field, *ANSWERED_IN_WORDS.get(field, ())))
        if own and filled < TIP_BELOW:
            label = _partners_name(named, field_label(named, domain, lang), own, fmt, lang)
            tips.append(Tip(field=field, field_label=label, filled=round(filled, 3),
                            message=why[0] if lang == "de" else why[1]))
    return tips


def build_report(
    partner: Any,
    domain: str,
    sync_row: Any,
    rejection_rows: Iterable[Any],
    lang: str = "de",
    trial: bool = False,
    fmt: str | None = None,
    coverage: Mapping[str, float] | None = None,
) -> FeedbackReport:
    """The report of one delivery.

    ``partner``: a registry ``Partner`` (anything with ``id`` and ``name``). ``sync_row``: a
    ``syncs`` row or a mapping with its columns (``id``, ``started_at``, ``status``, ``items``,
    ``accepted``, ``rejected``, ``added``, ``changed``, ``withdrawn``, ``message``, and
    ``headers``: the columns the delivery wrote under another usual name, which the report
    names so).
    ``rejection_rows``: ``rejections`` rows or ``Rejection`` models, in delivery order.
    ``trial``: a file checked before delivery (``hub check``), reported in the conditional.
    ``fmt``: the delivery's format (default: the partner's feed of ``domain`` in the registry),
    whose names for the fields (a CSV template's columns) the report uses. ``coverage``: the
    share of accepted offers that fill each field (default: the sync row's
    ``field_coverage``), for the tips on fields people search by."""
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}; use one of {', '.join(LANGS)}")
    sync = _mapping(sync_row)
    feed = partner.feed_for(domain) if fmt is None and hasattr(partner, "feed_for") else None
    known = _format(fmt or (feed.format if feed is not None else None))
    headers = sync.get("headers")  # the columns the delivery wrote under another usual name
    problems = [_problem(_mapping(row), domain, lang, known, headers) for row in rejection_rows]

    # errors before warnings; within each, the records in the order of the file's lines where
    # it has them (a row rejected while parsing is found before those the checks reject), else
    # in the order found; a record's problems together
    first_seen: dict[str, tuple[int, int]] = {}
    keys = []
    for index, problem in enumerate(problems):
        record = problem.source_id if problem.source_id is not None else f"#{index}"
        first_seen.setdefault(record, (problem.line or 0, index))
        keys.append((problem.severity != "error", first_seen[record], index))
    problems = [problem for _, problem in sorted(zip(keys, problems), key=lambda pair: pair[0])]

    by_rule: dict[str, list[Problem]] = {}
    for problem in problems:
        by_rule.setdefault(problem.rule, []).append(problem)
    rules = [
        RuleCount(code=code, severity=items[0].severity, count=len(items),
                  message=_summary_message(code, items, lang))
        for code, items in by_rule.items()
    ]
    rules.sort(key=lambda r: (r.severity != "error", -r.count, r.code))

    rejected_keys = {_record_key(p) for p in problems if p.severity == "error"}
    flagged: set[object] = set()
    for problem in problems:
        if problem.severity == "error" or problem.rule in _FILE_NOTES:
            continue
        if _record_key(problem) not in rejected_keys:
            flagged.add(_record_key(problem))

    def count(key: str) -> int:
        return int(sync.get(key) or 0)

    delivered = sync["started_at"]
    if delivered.tzinfo is None:
        delivered = delivered.replace(tzinfo=dt.timezone.utc)
    report = FeedbackReport(
        lang=lang,
        partner_id=partner.id,
        partner_name=partner.name,
        domain=domain,
        sync_id=sync.get("id"),
        delivered_at=delivered.astimezone(dt.timezone.utc),
        status=sync["status"],
        status_message=sync.get("message"),
        trial=trial,
        headline="",
        first_delivery=bool(sync.get("first_delivery")),
        counts=Counts(items=count("items"), accepted=count("accepted"), rejected=count("rejected"),
                      warnings=len(flagged), added=count("added"),
                      changed=count("changed"), withdrawn=count("withdrawn"),
                      withdrawn_rejected=count("withdrawn_rejected"), corrected=count("corrected")),
        rules=rules,
        problems=problems,
        tips=findability_tips(domain, coverage if coverage is not None else sync.get("field_coverage"),
                              known, lang, headers) if sync["status"] == "ok" else [],
    )
    report.headline = headline(report)
    return report


# --------------------------------------------------------------------------- rendering

_ENV = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",),
                                 default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _context(report: FeedbackReport, limit: int | None) -> dict[str, Any]:
    lang = report.lang
    # a rejected record's warnings stand with its errors: its heading says it is not published
    errors, warnings = report.rejected_rows, report.flagged_rows
    shown_errors = errors if limit is None else errors[:limit]
    shown_warnings = warnings if limit is None else warnings[: max(0, limit - len(shown_errors))]
    return {
        "r": report,
        "t": texts(report),
        "noun": DOMAIN_NOUNS[lang][report.domain],
        "delivered": format_datetime(report.delivered_at, lang),
        "changes": changes_line(report),
        "explanation": status_explanation(report),
        "errors": shown_errors,
        "warnings": shown_warnings,
        "notes": report.notes,
        "percent": lambda share: f"{share:.0%}".replace("%", " %") if lang == "de" else f"{share:.0%}",
        # the sections' headings count offers, as their introductions speak of them (a
        # record with three problems is one offer and three rows)
        "error_offers": offers(_records(errors), lang),
        "warning_offers": offers(_records(warnings), lang),
        "more_errors": len(errors) - len(shown_errors),
        "more_warnings": len(warnings) - len(shown_warnings),
        "num": lambda n: number(n, lang),
        "with_hint": _with_hint,
    }


def _with_hint(problem: Problem) -> str:
    """A problem and how to fix it in one line of plain text: a message that ends in the value
    delivered ('... ungültigen Wert: 31.02.2027') gets a dash before the hint, so the hint's
    first words do not read as part of the value."""
    if not problem.hint:
        return problem.message
    ends = problem.message.rstrip()[-1:]
    return f"{problem.message} {problem.hint}" if ends in ".!?" else f"{problem.message} – {problem.hint}"


def _record_key(problem: Problem) -> object:
    """Which record ``problem`` is about: its id and the line it starts on (two rows of a CSV
    file with one id are two records: the second is rejected as a duplicate, the first may be
    published); a problem without an id is a record of its own."""
    return (problem.source_id, problem.line) if problem.source_id else id(problem)


def _records(problems: list[Problem]) -> int:
    """How many records ``problems`` concern (those without an id each count once)."""
    return len({_record_key(p) for p in problems})


def _mail_words(report: FeedbackReport, contact: str | None, attachment: str | None,
                online: str | None = None) -> dict[str, Any]:
    """The sentences that differ in a mail: the address for questions (the mail's Reply-To),
    the CSV table, attached to a mail under ``attachment`` rather than beside the page, and
    ``online``, the partner's feedback page on the read API."""
    t = TEXTS[report.lang]
    return {
        # the page's address as a link in the HTML, as written in the text
        "online_html": (escape(t["online"]).format(url=Markup('<a href="{0}">{0}</a>').format(online))
                        if online else None),
        "online_note": t["online"].format(url=online) if online else None,
        "footer": t["footer_contact"].format(address=contact) if contact else t["footer"],
        "csv_note": t["csv_note_attached"].format(name=attachment) if attachment else t["csv_note"],
        # the rows left out are problems (a record can have several), not offers as in the
        # heading above them
        "more_note": lambda n: t[("more_attached" if attachment else "more")
                                 + ("_one" if n == 1 else "")].format(
                                     n=number(n, report.lang), name=attachment),
    }


def render_html(report: FeedbackReport, limit: int | None = None, contact: str | None = None,
                attachment: str | None = None, online: str | None = None) -> str:
    """The page for people: the result first, then each problem with how to fix it.
    ``limit``: list at most this many problems (the rest are counted and left to the CSV).
    For a mail: ``contact``, the address the footer names for questions (the Reply-To), and
    ``attachment``, the file name the CSV table is attached under, and ``online``, the
    address of the partner's feedback page (the mail links it)."""
    return _ENV.get_template("report.html").render(_context(report, limit),
                                                   **_mail_words(report, contact, attachment, online))


def render_text(report: FeedbackReport, limit: int | None = None, contact: str | None = None,
                attachment: str | None = None, online: str | None = None) -> str:
    """A short plain-text version (the e-mail's text alternative)."""
    return _ENV.get_template("report.txt").render(_context(report, limit),
                                                  **_mail_words(report, contact, attachment, online))


CSV_COLUMNS = ("col_id", "col_line", "col_title", "col_severity", "col_field", "col_value", "col_wrong",
               "col_fix", "col_rule", "col_field_name")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_PLAIN_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula: '=HYPERLINK(...)' -> "'=HYPERLINK(...)"."""
    text = "" if value is None else str(value)
    if _PLAIN_NUMBER.fullmatch(text):  # '-5', '+49': a number, which a spreadsheet runs as none
        return text
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(report: FeedbackReport) -> bytes:
    """One row per problem; ';'-separated, UTF-8 with BOM (Excel opens it as it is)."""
    t = TEXTS[report.lang]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([t[column] for column in CSV_COLUMNS])
    for p in report.problems:
        writer.writerow([csv_cell(v) for v in (
            p.source_id, p.line, p.title, t["sev_error"] if p.severity == "error" else t["sev_warning"],
            p.field_label, p.value, p.message, p.hint, p.rule, p.field,
        )])
    return out.getvalue().encode("utf-8-sig")


def render_json(report: FeedbackReport) -> str:
    return json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
