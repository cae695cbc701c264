"""The rule catalogue: every reason a record can be rejected or flagged, with a stable code.

Codes are a contract with partners and portals: never rename one, add a new one instead.
Messages and hints take ``{field}`` and ``{value}`` placeholders.

Severity: ``error`` quarantines the record; ``warning`` publishes it with a flag and tells the
partner. The catalogue is published as ``schemas/rules.md`` (for people) and
``schemas/rules.json`` (for machines), both generated from this module
(``python -m hub.quality.rules --write``); a test fails when they drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hub.models.rejection import Rejection

ALL_DOMAINS = ("jobs", "courses", "housing")


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str  # "error": the record is quarantined; "warning": published with a flag
    message_de: str
    message_en: str
    hint_de: str
    hint_en: str = ""
    field: str | None = None  # the canonical field the rule looks at; None: any field
    domains: tuple[str, ...] = ALL_DOMAINS
    layer: str = "structure"  # "structure": the pydantic models; "semantic": the GX suites
    description: str = ""  # what exactly is checked (thresholds), for the catalogue


_RULES = [
    # ------------------------------------------------------------------ structure (parse)
    Rule(
        "RECORD_FIELD_MISSING", "error",
        "Pflichtfeld '{field}' fehlt oder ist leer.",
        "Required field '{field}' is missing or empty.",
        "Tragen Sie einen Wert für '{field}' ein.",
        "Fill in a value for '{field}'.",
        description="A required field of the canonical record is absent or empty.",
    ),
    Rule(
        "RECORD_FIELD_INVALID", "error",
        "Feld '{field}' hat einen ungültigen Wert: {value}",
        "Field '{field}' has an invalid value: {value}",
        "Prüfen Sie Schreibweise und Format des Werts.",
        "Check the spelling and format of the value.",
        description="A value has the wrong type or format (number, date, yes/no, URL, ...).",
    ),
    Rule(
        "RECORD_UNREADABLE", "error",
        "Der Eintrag ist nicht lesbar: {value}",
        "The record cannot be read: {value}",
        "Prüfen Sie, ob der Export vollständig und im vereinbarten Format ist.",
        "Check that the export is complete and in the agreed format.",
        description="The item of the feed cannot be read at all (e.g. a shifted CSV row).",
    ),
    Rule(
        "RECORD_ID_DUPLICATE", "error",
        "Die Kennung '{value}' kommt in der Lieferung mehrfach vor; nur der erste Eintrag zählt.",
        "The id '{value}' occurs more than once in the delivery; only the first record counts.",
        "Vergeben Sie jedem Angebot eine eigene, dauerhafte Kennung.",
        "Give every offer an id of its own that stays the same over time.",
        field="source_id",
        description="Later records with an id already seen in the same delivery. Where the "
                    "record names another provider than the first of its id (another "
                    "`<anbieter>` of an OpenImmo file, another employer), the message names "
                    "both: the ids must be unique across the providers of one delivery.",
    ),
    Rule(
        "CSV_COLUMN_UNKNOWN", "warning",
        "Die Spalte '{value}' gehört nicht zur Vorlage; ihr Inhalt wird nicht übernommen.",
        "The column '{value}' is not part of the template; its content is not taken over.",
        "Benennen Sie die Spalte wie in der Vorlage beschrieben, oder lassen Sie sie weg.",
        "Name the column as the template describes it, or leave it out.",
        description="CSV templates only: a named column of the header row that is none of "
                    "the template's (compared without case, spaces, hyphens, umlauts and a "
                    "unit such as '(m²)' or 'in €'); reported once per file, on line 1.",
    ),
    Rule(
        "CSV_COLUMN_REPEATED", "warning",
        "Spalte {value} wird nicht gelesen: sie meint dasselbe wie Spalte {field}, deren "
        "Inhalt übernommen wird.",
        "Column {value} is not read: it means the same as column {field}, whose content is "
        "taken over.",
        "Prüfen Sie, welche der beiden Spalten die richtigen Angaben enthält, und lassen Sie "
        "die andere weg.",
        "Check which of the two columns holds the right entries, and leave the other out.",
        description="CSV templates only: a column of the header row that another column of "
                    "the same meaning is read for (the same name twice, or another usual name "
                    "beside it: `Telefon` and `Telefonnummer`); the template's own name counts, "
                    "else the first. Both are named by their spreadsheet letter; reported once "
                    "per file, on the header's line.",
    ),
    Rule(
        "CSV_HEADER_NOT_FIRST", "warning",
        "Die Spaltennamen stehen in Zeile {value}; was darüber steht, wird nicht gelesen.",
        "The column names are in line {value}; what stands above them is not read.",
        "Lassen Sie die Spaltennamen in der ersten Zeile beginnen (ohne Überschrift darüber).",
        "Start the file with the column names in its first line (no heading above them).",
        description="CSV templates only: the header row is not the file's first row (a "
                    "heading or empty rows above it, as a spreadsheet shows them); the first of "
                    "the first 10 rows that holds the required columns is read as the header.",
    ),
    Rule(
        "CSV_ROW_AFTER_OFFERS", "warning",
        "Zeile {value} steht unter den Angeboten und ist keines (höchstens zwei Zellen, ohne "
        "Kennung und Titel: etwa eine Summe oder ein Vermerk); sie wird nicht gelesen.",
        "Line {value} stands below the offers and is none (two cells at most, without an id and "
        "a title: a total or a remark, say); it is not read.",
        "Lassen Sie unter den Angeboten nichts stehen, oder geben Sie der Zeile Kennung und "
        "Titel, wenn sie ein Angebot ist.",
        "Leave nothing below the offers, or give the line an id and a title if it is an offer.",
        description="CSV templates only: a row after the last row with an id and a title "
                    "that fills at most two cells and lacks the id or the title (a total, "
                    "'Stand: ...', a signature, as spreadsheets carry them below a table) is "
                    "passed over with this note, instead of being rejected as an offer without "
                    "its required fields; reported on its line.",
    ),
    Rule(
        "ADDRESS_POSTAL_CODE_INVALID", "error",
        "Die Postleitzahl '{value}' ist keine fünfstellige deutsche PLZ.",
        "The postal code '{value}' is not a five-digit German postal code.",
        "Geben Sie die PLZ mit fünf Ziffern an, auch mit führender Null (z. B. 06108).",
        "Give the postal code as five digits, keeping a leading zero (e.g. 06108).",
        field="address.postal_code",
        description="Exactly five digits (model and suite: `^[0-9]{5}$`).",
    ),
    Rule(
        "ADDRESS_POSTAL_CODE_ZERO_ADDED", "warning",
        "Die Postleitzahl '{value}' hat nur vier Ziffern; die Tabellenkalkulation hat wohl die "
        "führende Null entfernt. Übernommen als 0{value}.",
        "The postal code '{value}' has four digits; the spreadsheet probably dropped its "
        "leading zero. Taken as 0{value}.",
        "Formatieren Sie die Spalte mit der PLZ als Text, damit die führende Null erhalten bleibt.",
        "Format the postal code column as text, so that the leading zero stays.",
        field="address.postal_code",
        description="CSV templates only: a postal code of four digits gets its zero back (a "
                    "spreadsheet that read the column as numbers drops the zero of 01067 to "
                    "09999 in every row) when every five-digit code of the file starts with 1 "
                    "(the east, where the codes with a zero lie); else four digits are a code "
                    "that lost a digit, ADDRESS_POSTAL_CODE_INVALID.",
    ),
    Rule(
        "ADDRESS_AGS_ZERO_ADDED", "warning",
        "Der Gemeindeschlüssel '{value}' hat nur sieben Ziffern; die Tabellenkalkulation hat "
        "wohl die führende Null entfernt. Übernommen als 0{value} (passt zur PLZ).",
        "The municipality key '{value}' has seven digits; the spreadsheet probably dropped its "
        "leading zero. Taken as 0{value} (it matches the postal code).",
        "Formatieren Sie die Spalte mit dem AGS als Text, damit die führende Null erhalten bleibt.",
        "Format the AGS column as text, so that the leading zero stays.",
        field="address.municipality_key",
        description="CSV templates only: a municipality key (AGS) of seven digits gets its "
                    "zero back (a spreadsheet that read the column as numbers drops the zero of "
                    "the states 01 to 09) when the postal code is known to lie in the state or "
                    "district the key then names; else seven digits are a key that lost a "
                    "digit, RECORD_FIELD_INVALID.",
    ),
    Rule(
        "HOUSING_NOT_FOR_RENT", "error",
        "Das Objekt wird nicht als Wohnraum zur Miete angeboten ({value}).",
        "The object is not offered as housing to rent ({value}).",
        "Das Verzeichnis führt nur Mietwohnungen, -häuser und Zimmer; lassen Sie Kaufobjekte, "
        "Gewerbeflächen und Stellplätze in der Lieferung weg.",
        "The directory lists flats, houses and rooms to rent only; leave objects for sale, "
        "commercial space and parking out of the delivery.",
        domains=("housing",),
        description="OpenImmo `vermarktungsart` without MIETE_PACHT (for sale), `nutzungsart` "
                    "without WOHNEN (commercial), an `objektart` that is not a dwelling "
                    "(parken, buero_praxen, einzelhandel, ...); schema.org offers that all "
                    "sell (`businessFunction` Sell).",
    ),
    Rule(
        "HOUSING_DELETE_WITHOUT_ID", "error",
        "Die Löschung (aktionart {value}) kann nicht ausgeführt werden: '{field}' fehlt, das "
        "Objekt ist unbekannt.",
        "The deletion (aktionart {value}) cannot be carried out: '{field}' is missing, so the "
        "object is unknown.",
        "Geben Sie bei jeder Löschung die objektnr_extern an, mit der das Objekt geliefert "
        "wurde; in einer Teillieferung (TEIL) bleibt es sonst im Verzeichnis.",
        "Give every deletion the objektnr_extern the object was delivered with; in a partial "
        "delivery (TEIL) it otherwise stays in the directory.",
        field="source_id",
        domains=("housing",),
        description="OpenImmo: an `<immobilie>` whose `verwaltung_techn/aktion/@aktionart` is "
                    "DELETE (or REFERENZ) without `objektnr_extern`: nothing is deleted, and "
                    "the partner learns that its deletion named no object.",
    ),
    Rule(
        "JOB_REMOTE_WITHOUT_WORKPLACE", "error",
        "Die Stelle ist eine Fernarbeitsstelle ({value}) ohne Adresse; das Verzeichnis ist "
        "regional und führt jede Stelle an der Adresse ihres Arbeitgebers oder Büros, auch "
        "eine Stelle im Homeoffice.",
        "The job is a remote job ({value}) without an address; the directory is regional and "
        "lists every job at the address of its employer or office, remote jobs too.",
        "Geben Sie in jobLocation die Adresse des Arbeitgebers oder des Büros an, zu dem die "
        "Stelle gehört (mit PLZ und Ort); sie bleibt als Homeoffice-Stelle gekennzeichnet.",
        "Give in jobLocation the address of the employer or of the office the job belongs to "
        "(with postal code and town); it stays marked as a remote job.",
        field="address.postal_code",
        domains=("jobs",),
        description="schema.org JobPosting with `jobLocationType` TELECOMMUTE and no postal "
                    "code in `jobLocation`: rejected with this rule besides the missing fields, "
                    "so the partner learns that the regional directory needs the address of the "
                    "employer or office (the hub invents none); with it the job is published "
                    "with `remote_possible`.",
    ),
    Rule(
        "JOB_LOCATIONS_PASSED_OVER", "warning",
        "Weitere Arbeitsorte der Stelle werden nicht übernommen (Anzahl: {value}); das "
        "Verzeichnis führt sie nur am ersten Ort aus jobLocation.",
        "Further places of work of the posting are not taken over (number: {value}); the "
        "directory lists it at the first place in jobLocation only.",
        "Liefern Sie für jeden Standort eine eigene Stelle mit eigener Kennung (identifier) "
        "und eigenem Link, wenn sie an jedem Ort gefunden werden soll.",
        "Deliver one posting per site, each with an id (identifier) and a link of its own, if "
        "the job is to be found at every place.",
        field="address",
        domains=("jobs",),
        description="schema.org JobPosting with several `jobLocation` entries: the record "
                    "keeps the first (a canonical record has one address and its source id "
                    "is the posting's own); the entries with another address are counted "
                    "in the warning.",
    ),
    Rule(
        "COURSE_LEVEL_INVALID", "error",
        "Das Sprachniveau '{value}' gibt es nicht; erlaubt sind A1, A2, B1, B2, C1, C2.",
        "The language level '{value}' does not exist; allowed are A1, A2, B1, B2, C1, C2.",
        "Geben Sie das Niveau nach dem Europäischen Referenzrahmen an: für einen Kurs eines oder "
        "mehrere mit '-' (A1-B1), für eine Stelle das mindestens verlangte (B1).",
        "Give the level on the Common European Framework of Reference: for a course one or "
        "several with '-' (A1-B1), for a job the lowest it asks for (B1).",
        field="cefr_levels",
        domains=("jobs", "courses"),
        description="CEFR levels of a course (`cefr_levels`) or required of a job "
                    "(`german_level`) from the vocabulary A1-C2.",
    ),
    Rule(
        "COURSE_TYPE_UNKNOWN", "error",
        "Die Kursart '{value}' ist unbekannt.",
        "The course type '{value}' is unknown.",
        "Verwenden Sie eine Kursart aus der Vorlage, z. B. Integrationskurs oder Berufssprachkurs.",
        "Use a course type from the template, e.g. Integrationskurs or Berufssprachkurs.",
        field="course_type",
        domains=("courses",),
        description="The course type is one of the shared vocabulary (`CourseType`).",
    ),
    # ------------------------------------------------------------------ semantic (suites)
    Rule(
        "COURSE_DATES_INCONSISTENT", "error",
        "Das Kursende ({value}) liegt vor dem Kursbeginn.",
        "The course ends ({value}) before it starts.",
        "Prüfen Sie Beginn und Ende des Kurses.",
        "Check the start and end dates of the course.",
        field="end_date",
        domains=("courses",),
        layer="semantic",
        description="`end_date` >= `start_date` where both are given.",
    ),
    Rule(
        "JOB_SALARY_IN_WORDS", "warning",
        "Das Gehalt '{value}' ist kein Betrag; die Stelle wird ohne Gehaltsangabe "
        "veröffentlicht.",
        "The pay '{value}' is not an amount; the posting is published without a salary.",
        "Geben Sie den Betrag in Euro an (z. B. 2.450 für den Tariflohn) oder lassen Sie das "
        "Feld leer.",
        "Give the amount in euro (e.g. 2,450 for the collective wage) or leave the field empty.",
        field="salary_min",
        domains=("jobs",),
        description="CSV templates and schema.org `baseSalary`: pay stated in words (`nach "
                    "Tarif`, `TVöD S8a`, `nach Vereinbarung`, `VB`, `attraktiv`) leaves the "
                    "salary empty instead of rejecting the posting. Other values that are no "
                    "amount stay RECORD_FIELD_INVALID.",
    ),
    Rule(
        "JOB_SALARY_PERIOD_MISSING", "warning",
        "Beim Gehalt steht nicht, ob der Betrag pro Stunde, Monat oder Jahr gilt; die Stelle "
        "wird mit dem Betrag, aber ohne Zeitraum veröffentlicht.",
        "The pay does not say whether the amount is per hour, month or year; the posting is "
        "published with the amount but without a period.",
        "Tragen Sie in '{field}' ein, wofür der Betrag gilt: Stunde, Monat oder Jahr.",
        "Fill in '{field}' with what the amount is for: Stunde (hour), Monat (month) or Jahr "
        "(year).",
        field="salary_period",
        domains=("jobs",),
        description="CSV templates only: an amount in `Gehalt von` or `Gehalt bis` while "
                    "`Gehalt pro` is empty and the amount names no period (`/Std.`, `p.a.`); "
                    "the amount is published as written, without a period (none is guessed).",
    ),
    Rule(
        "JOB_SALARY_PERIOD_NOT_PUBLISHED", "warning",
        "Das Gehalt gilt für einen Zeitraum, den das Verzeichnis nicht veröffentlicht "
        "({value}); es zeigt Gehälter pro Stunde, Monat oder Jahr. Die Stelle wird ohne "
        "Gehaltsangabe veröffentlicht.",
        "The pay is for a period the directory does not publish ({value}); it shows pay per "
        "hour, month or year. The posting is published without a salary.",
        "Geben Sie das Gehalt pro Stunde, Monat oder Jahr an (ein Wochenlohn mal 52 geteilt "
        "durch 12 ist der Monatslohn).",
        "Give the pay per hour, month or year (a weekly wage times 52 divided by 12 is the "
        "monthly wage).",
        field="salary_period",
        domains=("jobs",),
        description="CSV templates and schema.org `baseSalary`: pay per week or per day "
                    "(`Gehalt pro` `Woche` / `Tag`, an amount such as `500 €/Woche` or `120 € "
                    "pro Tag`; schema.org `unitText` / `unitCode` WEEK, DAY or any unit but "
                    "HOUR, MONTH, YEAR) leaves the salary empty instead of rejecting the posting "
                    "(CSV) or dropping the salary unsaid (schema.org): the hub does not guess "
                    "the days or weeks worked to convert it.",
    ),
    Rule(
        "JOB_GERMAN_LEVEL_IN_WORDS", "warning",
        "Die Deutschkenntnisse '{value}' nennen kein Sprachniveau; die Stelle wird ohne "
        "Sprachniveau veröffentlicht.",
        "The German skills '{value}' name no level; the posting is published without one.",
        "Geben Sie das Niveau nach GER an (A1 bis C2), z. B. B2 für gute Deutschkenntnisse.",
        "Give the CEFR level (A1 to C2), e.g. B2 for good German.",
        field="german_level",
        domains=("jobs",),
        description="CSV templates only: German skills described in words (`gute "
                    "Deutschkenntnisse`, `Grundkenntnisse`, `verhandlungssicher`) leave "
                    "`german_level` empty instead of rejecting the posting; a text naming a "
                    "level (`B2 erforderlich`, `mindestens B1`) gives that level. Other values "
                    "stay COURSE_LEVEL_INVALID.",
    ),
    Rule(
        "COURSE_PRICE_IN_WORDS", "warning",
        "Die Kosten '{value}' nennen keinen Preis des Kurses; der Kurs wird ohne Preis "
        "veröffentlicht.",
        "The cost '{value}' gives no price for the course; the course is published without "
        "a price.",
        "Geben Sie den Preis des ganzen Kurses in Euro an (z. B. 1.603), 0 für kostenlos, oder "
        "lassen Sie das Feld leer.",
        "Give the price of the whole course in euro (e.g. 1.603 or 1603), 0 for free, or leave the "
        "field empty.",
        field="price_eur",
        domains=("courses",),
        description="CSV templates only: a cost on request (`auf Anfrage`, `nach "
                    "Vereinbarung`) or a rate alone (`2,29 € pro UE`, `150 € pro Monat`) leaves "
                    "`price_eur` empty instead of rejecting the course; `kostenlos für "
                    "Teilnahmeberechtigte` is 0, and a price with its rate beside it "
                    "(`1.603 € (2,29 € pro UE)`) is that price. Other values that are no "
                    "amount stay RECORD_FIELD_INVALID.",
    ),
    Rule(
        "HOUSING_FLOOR_WITHOUT_NUMBER", "warning",
        "Die Etage '{value}' nennt keine Geschossnummer; die Wohnung wird ohne Etage "
        "veröffentlicht.",
        "The floor '{value}' gives no storey number; the flat is published without its floor.",
        "Geben Sie das Geschoss als Zahl an, z. B. 3 für ein Dachgeschoss über dem 2. OG.",
        "Give the storey as a number, e.g. 3 for an attic above the second floor.",
        field="floor",
        domains=("housing",),
        description="CSV templates only: `DG` / `Dachgeschoss` (the top storey, named without "
                    "its number) leaves `floor` empty instead of rejecting the flat. Other "
                    "values that are no storey stay RECORD_FIELD_INVALID.",
    ),
    Rule(
        "HOUSING_RENT_IN_WORDS", "warning",
        "Die Miete '{value}' nennt keinen Betrag; die Wohnung wird ohne diese Miete "
        "veröffentlicht.",
        "The rent '{value}' gives no amount; the flat is published without this rent.",
        "Geben Sie die Miete in Euro pro Monat an (z. B. 450); Wohnungssuchende filtern nach "
        "der Miete und finden die Wohnung sonst nicht.",
        "Give the rent in euro per month (e.g. 450); people looking for a flat filter by rent "
        "and will not find it otherwise.",
        field="cold_rent",
        domains=("housing",),
        description="CSV templates only: a Kaltmiete or Warmmiete in words (`auf Anfrage`, "
                    "`VB`, `nach Vereinbarung`, `nach WBS`) leaves that rent empty instead of "
                    "rejecting the flat. Other values that are no amount stay "
                    "RECORD_FIELD_INVALID.",
    ),
    Rule(
        "HOUSING_RENT_PERIOD_NOT_MONTHLY", "warning",
        "Die Preise gelten pro Zeiteinheit '{value}', nicht pro Monat; das Verzeichnis zeigt "
        "Mieten pro Monat, die Wohnung wird ohne Miete veröffentlicht.",
        "The prices are per time unit '{value}', not per month; the directory shows rents per "
        "month, the flat is published without a rent.",
        "Geben Sie die Miete pro Monat an (OpenImmo: preis_zeiteinheit MONAT oder keine; "
        "schema.org: unitCode MON), wenn die Wohnung auch monatsweise vermietet wird.",
        "Give the rent per month (OpenImmo: preis_zeiteinheit MONAT or none; schema.org: "
        "unitCode MON) where the flat is let by the month too.",
        field="cold_rent",
        domains=("housing",),
        description="OpenImmo: an object whose `preise/preis_zeiteinheit` is `TAG`, `WOCHE` or "
                    "`JAHR` (a furnished flat let by the day or week) would have published that "
                    "price as the rent per month; its rents and charges are left out instead (a "
                    "deposit stays). schema.org accommodation: an offer whose prices are all "
                    "per another unit (`WEE`, `DAY`, `ANN`), left out as before, is said so.",
    ),
    Rule(
        "HOUSING_DEPOSIT_WITHOUT_RENT", "warning",
        "Die Kaution '{value}' zählt Monatsmieten, aber die Kaltmiete fehlt; die Wohnung wird "
        "ohne Kaution veröffentlicht.",
        "The deposit '{value}' counts monthly rents, but the cold rent is missing; the flat is "
        "published without its deposit.",
        "Geben Sie die Kaltmiete an, oder die Kaution als Betrag in Euro (z. B. 1.200).",
        "Give the cold rent, or the deposit as an amount in euro (e.g. 1.200).",
        field="deposit",
        domains=("housing",),
        description="CSV templates only: a deposit in rents (`2 KM`, `3 Kaltmieten`, a bare "
                    "`3`) without a `Kaltmiete` to count them in leaves `deposit` empty instead "
                    "of rejecting the flat (or publishing 3 euro).",
    ),
    Rule(
        "DATE_MONTH_ONLY", "warning",
        "Der Beginn '{value}' nennt nur den Monat; veröffentlicht wird der 1. dieses Monats.",
        "The start '{value}' names only the month; the first day of that month is published.",
        "Geben Sie den ersten Tag an (TT.MM.JJJJ), sobald er feststeht.",
        "Give the first day (DD.MM.YYYY) as soon as it is known.",
        field="start_date",
        domains=("jobs", "courses"),
        description="CSV templates only: a `Beginn` that names a month without its day "
                    "(`März 2028`, `ab März 2028`, `Anfang März 2028`, `03/2028`) publishes the "
                    "first day of that month instead of rejecting the record. Other values "
                    "that are no date stay RECORD_FIELD_INVALID.",
    ),
    Rule(
        "DEADLINE_MONTH_ONLY", "warning",
        "Die Bewerbungsfrist '{value}' nennt nur den Monat; veröffentlicht wird der letzte Tag "
        "dieses Monats.",
        "The deadline '{value}' names only the month; the last day of that month is published.",
        "Geben Sie den letzten Tag der Frist an (TT.MM.JJJJ).",
        "Give the last day of the deadline (DD.MM.YYYY).",
        field="valid_through",
        domains=("jobs",),
        description="CSV templates only: a `Bewerbungsfrist` that names a month without its day "
                    "(`März 2028`, `Ende März 2028`, `bis Ende März 2028`, `03/2028`) publishes "
                    "the last day of that month instead of rejecting the posting.",
    ),
    Rule(
        "COURSE_END_MONTH_ONLY", "warning",
        "Das Kursende '{value}' nennt nur den Monat; veröffentlicht wird der letzte Tag dieses "
        "Monats.",
        "The course end '{value}' names only the month; the last day of that month is published.",
        "Geben Sie den letzten Kurstag an (TT.MM.JJJJ), sobald er feststeht.",
        "Give the last day of the course (DD.MM.YYYY) as soon as it is known.",
        field="end_date",
        domains=("courses",),
        description="CSV templates only: an `Ende` that names a month without its day "
                    "(`Juni 2027`, `Ende Juni 2027`, `06/2027`) publishes the last day of that "
                    "month instead of rejecting the course.",
    ),
    Rule(
        "AMOUNT_COMMA_THOUSANDS", "warning",
        "Im Betrag '{value}' steht ein Komma vor drei Ziffern; es wird als Tausender-Trennzeichen "
        "gelesen (1,200 = 1.200 Euro).",
        "The amount '{value}' has a comma before three digits; it is read as a thousands "
        "separator (1,200 = 1200 euros).",
        "Schreiben Sie Tausender mit Punkt oder ohne Zeichen (1.200 oder 1200) und Cent mit "
        "Komma (12,50).",
        "Write thousands with a dot or without a sign (1.200 or 1200) and cents with a comma "
        "(12,50).",
        domains=("jobs", "courses", "housing"),
        description="CSV templates only: an amount written with a comma before groups of three "
                    "digits (`1,200`, `1,200,000 €`), as English spreadsheets write thousands, is "
                    "read as that many euros (a euro amount has no three decimal places); it "
                    "was read as 1.2 euros.",
    ),
    Rule(
        "CSV_CELL_ERROR", "warning",
        "In der Spalte '{field}' steht '{value}', ein Fehlerwert der Tabellenkalkulation statt "
        "eines Werts; er wird nicht übernommen.",
        "The column '{field}' holds '{value}', a spreadsheet's error value instead of a value; "
        "it is not taken over.",
        "Korrigieren Sie die Formel der Zelle (#NV, #WERT!, #BEZUG!, #DIV/0!, #NAME?, Err:502) "
        "oder tragen Sie den Wert selbst ein; '###' zeigt Excel, wenn die Spalte für den Wert zu "
        "schmal ist: verbreitern Sie die Spalte und speichern Sie erneut.",
        "Correct the cell's formula (#N/A, #VALUE!, #REF!, #DIV/0!, #NAME?, Err:502) or enter "
        "the value itself; '###' is what Excel shows when the column is too narrow for the "
        "value: widen the column and save again.",
        domains=("jobs", "courses", "housing"),
        description="CSV templates only: a cell that holds an error value of Excel or "
                    "LibreOffice (`#NV`, `#N/A`, `#WERT!`, `#VALUE!`, `#BEZUG!`, `#DIV/0!`, "
                    "`#NAME?`, `Err:502`, ..., or `###`, Excel's sign for a value too wide for "
                    "its column, which it saves as shown) is read as empty: an optional value "
                    "is left out, a required one is missing (and rejected as such); the column "
                    "is named as the file's header row writes it.",
    ),
    Rule(
        "CHANGED_AT_UNREADABLE", "warning",
        "Das Änderungsdatum '{value}' ist kein Datum; das Angebot wird ohne Änderungsdatum veröffentlicht.",
        "The date of change '{value}' is no date; the offer is published without it.",
        "Schreiben Sie das Datum der letzten Änderung als TT.MM.JJJJ (z. B. 01.08.2027), "
        "gern mit Uhrzeit (01.08.2027 09:30), oder lassen Sie das Feld leer.",
        "Write the date of the last change as DD.MM.YYYY (e.g. 01.08.2027), with a time if you "
        "like (01.08.2027 09:30), or leave the field empty.",
        field="updated_at",
        domains=("jobs", "courses", "housing"),
        description="CSV templates only: a `Geaendert am` that is no date or time (`gestern`, "
                    "`31.02.2027`) leaves `updated_at` empty instead of rejecting the offer; "
                    "only the ranking of sources in a merge uses it.",
    ),
    Rule(
        "HOUSING_RENT_INCONSISTENT", "error",
        "Die Warmmiete ist niedriger als die Kaltmiete ({value}).",
        "The warm rent is lower than the cold rent ({value}).",
        "Die Warmmiete ist Kaltmiete plus Neben- und Heizkosten.",
        "The warm rent is the cold rent plus service and heating costs.",
        field="warm_rent",
        domains=("housing",),
        layer="semantic",
        description="`warm_rent` >= `cold_rent` where both are given.",
    ),
    Rule(
        "JOB_SALARY_RANGE_INVERTED", "error",
        "Das Mindestgehalt ist höher als das Höchstgehalt ({value}).",
        "The minimum salary is higher than the maximum ({value}).",
        "Tauschen Sie die beiden Beträge: der niedrigere ist das Gehalt 'von', der höhere das Gehalt 'bis'.",
        "Swap the 'from' and 'to' values.",
        field="salary_min",
        domains=("jobs",),
        layer="semantic",
        description="`salary_max` >= `salary_min` where both are given.",
    ),
    Rule(
        "ADDRESS_OUTSIDE_REGION", "warning",
        "Die Angabe '{value}' ({field}) liegt nicht in dem Gebiet, für das Sie an dieses "
        "Willkommenszentrum liefern.",
        "'{value}' ({field}) is not in the area you deliver for to this welcome center.",
        "Prüfen Sie PLZ und Gemeindeschlüssel (AGS); Angebote aus anderen Kreisen gehören nicht "
        "in diese Lieferung.",
        "Check the postal code and municipality key (AGS); offers from other districts do not "
        "belong in this delivery.",
        field="address.postal_code",
        layer="semantic",
        description="Only when the partner has a `region` (AGS prefix) in the registry: the "
                    "AGS prefix known for the postal code (Saarland districts, else the "
                    "Bundesland of its postal zone) and the `municipality_key` must be "
                    "compatible with the region (one a prefix of the other). A postal code "
                    "unknown to the table is not flagged.",
    ),
    Rule(
        "GEO_OUTSIDE_GERMANY", "error",
        "Die Koordinaten ({value}) liegen nicht in Deutschland.",
        "The coordinates ({value}) are not in Germany.",
        "Prüfen Sie Breiten- und Längengrad; oft sind sie vertauscht oder haben ein falsches "
        "Vorzeichen. Ohne sichere Koordinaten lassen Sie sie besser leer.",
        "Check latitude and longitude; often they are swapped or have a wrong sign. Leave them "
        "empty rather than guess.",
        field="geo",
        layer="semantic",
        description="Latitude 47.2-55.1 N and longitude 5.8-15.1 E.",
    ),
    Rule(
        "GEO_FAR_FROM_POSTAL_CODE", "warning",
        "Die Koordinaten ({value}) liegen mehr als 30 km vom Ort der Postleitzahl entfernt.",
        "The coordinates ({value}) are more than 30 km from the place of the postal code.",
        "Prüfen Sie, ob Koordinaten und Adresse zum selben Ort gehören.",
        "Check that the coordinates and the address belong to the same place.",
        field="geo",
        layer="semantic",
        description="Distance from the known centroid of the postal code <= 30 km (only for "
                    "postal codes in the centroid table: the district and its neighbours).",
    ),
    Rule(
        "DATE_IMPLAUSIBLE", "warning",
        "Das Datum in '{field}' ({value}) ist unplausibel: vor dem Jahr 2000 oder mehr als fünf "
        "Jahre in der Zukunft.",
        "The date in '{field}' ({value}) is implausible: before the year 2000 or more than five "
        "years ahead.",
        "Prüfen Sie das Datum; Platzhalter wie 01.01.1900 oder 31.12.2099 lassen Sie besser leer.",
        "Check the date; leave placeholders such as 01.01.1900 or 31.12.2099 empty instead.",
        layer="semantic",
        description="Every date of the record (jobs: `start_date`, `published_from`, "
                    "`valid_through`; courses: `start_date`, `end_date`; housing: "
                    "`available_from`) lies between 2000-01-01 and today + 5 years. A warning, "
                    "because far-future dates are a common way to say 'open-ended'.",
    ),
    Rule(
        "JOB_EXPIRED", "error",
        "Die Stelle ist abgelaufen (gültig bis {value}).",
        "The job posting has expired (valid until {value}).",
        "Nehmen Sie abgelaufene Stellen aus dem Export oder verlängern Sie das Datum '{field}'.",
        "Remove expired postings from the export or extend their date '{field}'.",
        field="valid_through",
        domains=("jobs",),
        layer="semantic",
        description="`valid_through` >= today (a posting valid through today is still shown).",
    ),
    Rule(
        "COURSE_ENDED", "error",
        "Der Kurs ist bereits beendet (Kursende {value}).",
        "The course has already ended (end {value}).",
        "Nehmen Sie beendete Kurse aus dem Export.",
        "Remove courses that have ended from the export.",
        field="end_date",
        domains=("courses",),
        layer="semantic",
        description="`end_date` >= today.",
    ),
    Rule(
        "HOUSING_RENT_PER_SQM_IMPLAUSIBLE", "warning",
        "Die Kaltmiete pro Quadratmeter ({value}) liegt nicht zwischen 3 und 30 Euro.",
        "The cold rent per square metre ({value}) is not between 3 and 30 euros.",
        "Prüfen Sie Kaltmiete und Wohnfläche: Miete in Euro pro Monat, Fläche in m².",
        "Check the cold rent and the living area: rent in euros per month, area in m².",
        field="cold_rent",
        domains=("housing",),
        layer="semantic",
        description="`cold_rent` / `living_area` between 3 and 30 EUR/m² where both are given.",
    ),
    Rule(
        "HOUSING_WARM_RENT_NOT_ITS_PARTS", "warning",
        "Die Warmmiete ist nicht die Summe aus Kaltmiete, Nebenkosten und Heizkosten ({value}).",
        "The warm rent is not the sum of cold rent, service charges and heating costs ({value}).",
        "Warmmiete = Kaltmiete + Nebenkosten + Heizkosten: prüfen Sie die vier Beträge (ein "
        "Tippfehler in einem von ihnen?).",
        "Warm rent = cold rent + service charges + heating costs: check the four amounts (a "
        "typo in one of them?).",
        field="warm_rent",
        domains=("housing",),
        layer="semantic",
        description="Where `warm_rent`, `cold_rent`, `service_charges` and `heating_costs` are "
                    "all given, the warm rent is their sum within 1 euro.",
    ),
    Rule(
        "HOUSING_AREA_IMPLAUSIBLE", "error",
        "Die Wohnfläche ({value} m²) ist unplausibel; erwartet werden 8 bis 500 m².",
        "The living area ({value} m²) is implausible; expected are 8 to 500 m².",
        "Geben Sie die Wohnfläche in Quadratmetern an, ohne Nachkommastellen-Verschiebung.",
        "Give the living area in square metres; check the decimal separator.",
        field="living_area",
        domains=("housing",),
        layer="semantic",
        description="`living_area` between 8 and 500 m².",
    ),
    Rule(
        "HOUSING_ROOMS_IMPLAUSIBLE", "error",
        "Die Zimmerzahl ({value}) passt nicht zur Wohnung: höchstens 20 Zimmer und mindestens "
        "5 m² je Zimmer.",
        "The number of rooms ({value}) does not fit the flat: at most 20 rooms and at least "
        "5 m² per room.",
        "Geben Sie die Zahl der Zimmer an (halbe Zimmer als 0,5), nicht die Wohnfläche.",
        "Give the number of rooms (half rooms as 0.5), not the living area.",
        field="rooms",
        domains=("housing",),
        layer="semantic",
        description="`rooms` > 0 and <= 20; `living_area` / `rooms` >= 5 m² where both given.",
    ),
    Rule(
        "JOB_SALARY_IMPLAUSIBLE", "warning",
        "Das Gehalt ({value}) ist für den angegebenen Zeitraum unplausibel.",
        "The salary ({value}) is implausible for the period given.",
        "Prüfen Sie Betrag und Zeitraum (pro Stunde, Monat oder Jahr), z. B. Monatsgehalt "
        "nicht als Jahresgehalt.",
        "Check the amount and the period (per hour, month or year), e.g. a monthly salary not "
        "marked as yearly.",
        field="salary_min",
        domains=("jobs",),
        layer="semantic",
        description="`salary_min` and `salary_max` per `salary_period`: hour 5-200, month "
                    "400-30,000, year 5,000-400,000 EUR.",
    ),
    Rule(
        "URL_INVALID", "warning",
        "Der Link '{value}' ist keine öffentliche Web-Adresse.",
        "The link '{value}' is not a public web address.",
        "Geben Sie die vollständige Adresse der Angebotsseite an, z. B. "
        "https://www.beispiel.de/stellen/123.",
        "Give the full address of the offer's page, e.g. https://www.example.de/jobs/123.",
        field="url",
        layer="semantic",
        description="Beyond the model's http(s) URL check: a public host name with a "
                    "top-level domain (no bare host, no IP address), no spaces.",
    ),
    Rule(
        "URL_NOT_HTTPS", "warning",
        "Der Link '{value}' ist nicht verschlüsselt (http statt https).",
        "The link '{value}' is not encrypted (http instead of https).",
        "Verwenden Sie https://, wenn Ihre Seite es anbietet.",
        "Use https:// if your site supports it.",
        field="url",
        layer="semantic",
        description="The URL starts with `https://`.",
    ),
    Rule(
        "CONTACT_EMAIL_INVALID", "error",
        "Die E-Mail-Adresse der Ansprechperson '{value}' ist ungültig.",
        "The contact's e-mail address '{value}' is invalid.",
        "Geben Sie eine vollständige Adresse wie name@beispiel.de an, ohne Leerzeichen.",
        "Give a complete address such as name@example.de, without spaces.",
        field="contact.email",
        layer="semantic",
        description="local@domain.tld: no spaces, one @, a domain with a top-level domain.",
    ),
    Rule(
        "CONTACT_NOT_PUBLIC_INVALID", "warning",
        "Die Kontaktangabe '{value}' ist ungültig; sie wird nicht veröffentlicht, das Angebot "
        "schon.",
        "The contact detail '{value}' is invalid; it is not published, the offer is.",
        "Prüfen Sie E-Mail-Adresse und Telefonnummer der Ansprechperson (z. B. "
        "name@beispiel.de, 06821 123456): das Willkommenszentrum nutzt sie für Rückfragen.",
        "Check the contact's e-mail address and phone number (e.g. name@example.de, 06821 "
        "123456): the welcome center uses them for questions.",
        field="contact.email",
        layer="semantic",
        description="The e-mail address or phone number of a contact the partner does not "
                    "publish (CSV `Kontakt oeffentlich` not `ja`; every OpenImmo and schema.org "
                    "contact) fails the checks of CONTACT_EMAIL_INVALID or "
                    "CONTACT_PHONE_INVALID: a warning, the record is accepted (readers with the "
                    "contacts scope see the contact as delivered). A published contact's stay "
                    "errors.",
    ),
    Rule(
        "CONTACT_PHONE_INVALID", "error",
        "Die Telefonnummer der Ansprechperson '{value}' ist ungültig.",
        "The contact's phone number '{value}' is invalid.",
        "Geben Sie die Nummer mit Vorwahl an, nur mit Ziffern, Leerzeichen, '/', '-', "
        "Klammern und +49, z. B. 06821 123456.",
        "Give the number with its area code, using only digits, spaces, '/', '-', brackets "
        "and +49, e.g. 06821 123456.",
        field="contact.phone",
        layer="semantic",
        description="After removing spaces, '/', '-', '(', ')' and a leading +49 or 0049: "
                    "6 to 15 digits and nothing else.",
    ),
    Rule(
        "TEXT_PLACEHOLDER", "error",
        "Der Titel '{value}' ist ein Platzhalter.",
        "The title '{value}' is a placeholder.",
        "Geben Sie einen aussagekräftigen Titel an, z. B. 'Pflegefachkraft (m/w/d)' oder "
        "'Integrationskurs A1-B1'.",
        "Give a meaningful title, e.g. 'Pflegefachkraft (m/w/d)' or 'Integrationskurs A1-B1'.",
        field="title",
        layer="semantic",
        description="The title is not a placeholder such as '-', '...', 'n/a', 'tbd', 'xxx', "
                    "'test', 'Titel', 'ohne Titel', 'keine Angabe', 'k. A.', 'null' "
                    "(case and surrounding spaces ignored).",
    ),
    Rule(
        "TEXT_TOO_SHORT", "warning",
        "Der Titel '{value}' ist sehr kurz (weniger als 4 Buchstaben).",
        "The title '{value}' is very short (fewer than 4 letters).",
        "Nennen Sie im Titel Beruf, Kursart oder Wohnungsart, damit Suchende das Angebot finden.",
        "Name the occupation, course type or kind of flat in the title so that people find it.",
        field="title",
        layer="semantic",
        description="The title has at least 4 letters (not counting digits and punctuation); "
                    "not reported when the title is a placeholder.",
    ),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}

# English fix hints, for reports in English
RULES_EN_HINTS: dict[str, str] = {rule.code: rule.hint_en for rule in _RULES}

# RECORD_ID_DUPLICATE where the first record of the id came from another provider (another
# <anbieter> of an OpenImmo file): the message says so, the partner's IT numbers per provider
DUPLICATE_OTHER_PROVIDER = (
    "Die Kennung '{value}' kommt in der Lieferung mehrfach vor: zuerst bei '{first}', hier bei "
    "'{this}'; nur der erste Eintrag zählt. Die Kennungen müssen über alle Anbieter der "
    "Lieferung hinweg eindeutig sein.",
    "The id '{value}' occurs more than once in the delivery: first for '{first}', here for "
    "'{this}'; only the first record counts. The ids must be unique across all providers of "
    "the delivery.",
)


def reject(
    code: str,
    *,
    partner_id: str,
    domain: str,
    source_id: str | None = None,
    field: str | None = None,
    value: object = None,
    title: str | None = None,
    line: int | None = None,
) -> Rejection:
    """Build a rejection for ``code`` with its messages filled in."""
    rule = RULES[code]
    shown = "" if value is None else str(value)
    if len(shown) > 200:
        shown = shown[:197] + "..."
    words = {"field": field or "", "value": shown}
    return Rejection(
        partner_id=partner_id,
        domain=domain,
        source_id=source_id,
        rule=code,
        severity=rule.severity,
        field=field,
        value=None if value is None else shown,
        message=rule.message_de.format(**words),
        message_en=rule.message_en.format(**words),
        hint=rule.hint_de.format(**words),
        title=title,
        line=line,
    )


# --------------------------------------------------------------------------- published files

RULES_MD = "rules.md"
RULES_JSON = "rules.json"


def rules_document() -> dict:
    """The catalogue as a JSON-ready document."""
    return {
        "title": "Welcome Hub rule catalogue",
        "description": "Every reason a record can be rejected (severity error) or flagged "
                       "(severity warning). Codes are stable.",
        "rules": [
            {
                "code": rule.code,
                "severity": rule.severity,
                "layer": rule.layer,
                "domains": list(rule.domains),
                "field": rule.field,
                "check": rule.description,
                "message_de": rule.message_de,
                "message_en": rule.message_en,
                "hint_de": rule.hint_de,
                "hint_en": rule.hint_en,
            }
            for rule in _RULES
        ],
    }


def rules_json() -> str:
    return json.dumps(rules_document(), indent=2, ensure_ascii=False) + "\n"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def rules_markdown() -> str:
    """The catalogue as the Markdown page ``schemas/rules.md``."""
    lines = [
        "# Rule catalogue",
        "",
        "<!-- generated by hub.quality.rules.rules_markdown(); edit hub/quality/rules.py and run",
        "     `python -m hub.quality.rules --write`, not this file -->",
        "",
        "Every reason the hub rejects or flags a partner's record. The code is stable: partners",
        "and portals may rely on it. **error**: the record is quarantined and not published;",
        "**warning**: the record is published and the partner is told. Messages and hints show",
        "`{field}` and `{value}` of the record concerned. The same catalogue for machines:",
        "[`rules.json`](rules.json).",
        "",
        "Layers: *structure* rules come from the canonical models while a feed is parsed;",
        "*semantic* rules are the Great Expectations suites per domain (`hub/quality/suites.py`),",
        "run on whole deliveries.",
        "",
        "| code | severity | layer | domains | field | check |",
        "|---|---|---|---|---|---|",
    ]
    for rule in _RULES:
        lines.append(
            f"| `{rule.code}` | {rule.severity} | {rule.layer} | {', '.join(rule.domains)} "
            f"| {('`' + rule.field + '`') if rule.field else 'any'} | {_cell(rule.description)} |"
        )
    lines += ["", "## Messages and hints", ""]
    for rule in _RULES:
        lines += [
            f"### `{rule.code}` ({rule.severity})",
            "",
            "| | Deutsch | English |",
            "|---|---|---|",
            f"| message | {_cell(rule.message_de)} | {_cell(rule.message_en)} |",
            f"| how to fix | {_cell(rule.hint_de)} | {_cell(rule.hint_en)} |",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def documents() -> dict[str, str]:
    return {RULES_MD: rules_markdown(), RULES_JSON: rules_json()}


def drifted(folder: Path) -> list[str]:
    """Files in ``folder`` that differ from what the catalogue generates (or are missing)."""
    stale = []
    for filename, text in documents().items():
        path = Path(folder) / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(filename)
    return stale


def write(folder: Path) -> list[str]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for filename, text in documents().items():
        (folder / filename).write_text(text, encoding="utf-8")
    return sorted(documents())


if __name__ == "__main__":  # python -m hub.quality.rules [--write] [FOLDER]
    import sys

    args = [a for a in sys.argv[1:] if a != "--write"]
    target = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "schemas"
    if "--write" in sys.argv[1:]:
        print("wrote", ", ".join(str(target / name) for name in write(target)))
    else:
        stale = drifted(target)
        print(f"out of date in {target}: {', '.join(stale)}" if stale else f"{target}: up to date")
        sys.exit(1 if stale else 0)
