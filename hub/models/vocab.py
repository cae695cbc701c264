"""Shared vocabulary of the canonical records: the values portals can filter on."""

from __future__ import annotations

from enum import Enum


class Vocabulary(str, Enum):
    """A closed list of values; a value in other letters, or with spaces around it, is the same
    value ('B1' for 'b1', 'full_time' for 'FULL_TIME'): a portal's query (``?cefr=b1``) or a
    record that writes it so means the same."""

    @classmethod
    def _missing_(cls, value: object) -> "Vocabulary | None":
        if isinstance(value, str):
            wanted = value.strip().casefold()
            for member in cls:
                if member.value.casefold() == wanted:
                    return member
        return None


class Domain(str, Enum):
    JOBS = "jobs"
    COURSES = "courses"
    HOUSING = "housing"


class CEFRLevel(Vocabulary):
    """Common European Framework of Reference levels."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


class EmploymentType(Vocabulary):
    """employee: a job (Arbeitsstelle); apprenticeship: Ausbildung; internship: Praktikum or
    trainee; mini_job: Minijob (geringfuegige Beschaeftigung); self_employed:
    Selbststaendigkeit; other."""

    EMPLOYEE = "employee"
    APPRENTICESHIP = "apprenticeship"
    INTERNSHIP = "internship"
    MINI_JOB = "mini_job"
    SELF_EMPLOYED = "self_employed"
    OTHER = "other"


class ContractDuration(Vocabulary):
    """permanent: unbefristet; fixed_term: befristet (a contract for a set time)."""

    PERMANENT = "permanent"
    FIXED_TERM = "fixed_term"


class WorkingTime(Vocabulary):
    """full_time: Vollzeit; part_time: Teilzeit; shift: Schicht, Nacht or Wochenende; flexible:
    flexible hours; mini: Minijob hours. A posting may name several."""

    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    SHIFT = "shift"  # shift, night or weekend work
    FLEXIBLE = "flexible"
    MINI = "mini"


class CourseType(Vocabulary):
    """integration_course: Integrationskurs (BAMF); job_language_course: Berufssprachkurs
    (DeuFoeV); language_course: another German course; literacy_course:
    Alphabetisierungskurs, also an Integrationskurs mit Alphabetisierung; vocational_training:
    Ausbildung, Umschulung; further_training: Weiterbildung; orientation: Erstorientierung,
    Beratung; other."""

    INTEGRATION_COURSE = "integration_course"  # Integrationskurs (BAMF)
    JOB_LANGUAGE_COURSE = "job_language_course"  # Berufssprachkurs (DeuFoeV)
    LANGUAGE_COURSE = "language_course"  # other German course
    LITERACY_COURSE = "literacy_course"  # Alphabetisierungskurs
    VOCATIONAL_TRAINING = "vocational_training"  # Ausbildung, Umschulung
    FURTHER_TRAINING = "further_training"  # Weiterbildung
    ORIENTATION = "orientation"  # Erstorientierung, Beratung
    OTHER = "other"


class CourseSchedule(Vocabulary):
    """full_time: Vollzeit; part_time: Teilzeit; evening: Abendkurs; weekend: Wochenendkurs;
    online: online; blended: online and in class. A course may name several."""

    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    EVENING = "evening"
    WEEKEND = "weekend"
    ONLINE = "online"
    BLENDED = "blended"


class PropertyType(Vocabulary):
    """apartment: Wohnung; house: Haus; room: Zimmer (WG or single room); other."""

    APARTMENT = "apartment"
    HOUSE = "house"
    ROOM = "room"
    OTHER = "other"


class SyncMode(str, Enum):
    """Snapshot feeds carry the partner's whole offer; delta feeds only changes."""

    SNAPSHOT = "snapshot"
    DELTA = "delta"
