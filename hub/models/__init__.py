"""Canonical records and the shared vocabulary."""

from hub.models.records import (
    RECORD_TYPES,
    Address,
    CanonicalRecord,
    ContactPerson,
    CourseOffer,
    GeoPoint,
    HousingVacancy,
    JobPosting,
)
from hub.models.rejection import Rejection
from hub.models.vocab import (
    CEFRLevel,
    ContractDuration,
    CourseSchedule,
    CourseType,
    Domain,
    EmploymentType,
    PropertyType,
    SyncMode,
    WorkingTime,
)

__all__ = [
    "RECORD_TYPES",
    "Address",
    "CanonicalRecord",
    "CEFRLevel",
    "ContactPerson",
    "ContractDuration",
    "CourseOffer",
    "CourseSchedule",
    "CourseType",
    "Domain",
    "EmploymentType",
    "GeoPoint",
    "HousingVacancy",
    "JobPosting",
    "PropertyType",
    "Rejection",
    "SyncMode",
    "WorkingTime",
]
