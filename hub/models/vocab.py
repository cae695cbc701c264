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
    EMPLOYEE = "employee"
    APPRENTICESHIP = "apprenticeship"
    INTERNSHIP = "internship"
    MINI_JOB = "mini_job"
    SELF_EMPLOYED = "self_employed"
    OTHER = "other"


class ContractDuration(Vocabulary):
    PERMANENT = "permanent"
    FIXED_TERM = "fixed_term"


class WorkingTime(Vocabulary):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    SHIFT = "shift"  # shift, night or weekend work
    FLEXIBLE = "flexible"
    MINI = "mini"


class CourseType(Vocabulary):
    INTEGRATION_COURSE = "integration_course"  # Integrationskurs (BAMF)
    JOB_LANGUAGE_COURSE = "job_language_course"  # Berufssprachkurs (DeuFoeV)
    LANGUAGE_COURSE = "language_course"  # other German course
    LITERACY_COURSE = "literacy_course"  # Alphabetisierungskurs
    VOCATIONAL_TRAINING = "vocational_training"  # Ausbildung, Umschulung
    FURTHER_TRAINING = "further_training"  # Weiterbildung
    ORIENTATION = "orientation"  # Erstorientierung, Beratung
    OTHER = "other"


class CourseSchedule(Vocabulary):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    EVENING = "evening"
    WEEKEND = "weekend"
    ONLINE = "online"
    BLENDED = "blended"


class PropertyType(Vocabulary):
    APARTMENT = "apartment"
    HOUSE = "house"
    ROOM = "room"
    OTHER = "other"


class SyncMode(str, Enum):
    """Snapshot feeds carry the partner's whole offer; delta feeds only changes."""

    SNAPSHOT = "snapshot"
    DELTA = "delta"
