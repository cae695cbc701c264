"""Canonical records: what every partner format is turned into.

The JSON Schemas in ``schemas/`` are generated from these models (``hub schemas --write``);
a test fails when the two drift apart.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from hub.models.vocab import (
    CEFRLevel,
    ContractDuration,
    CourseSchedule,
    CourseType,
    Domain,
    EmploymentType,
    PropertyType,
    WorkingTime,
)

PostalCode = Annotated[
    str,
    Field(pattern=r"^[0-9]{5}$", description="German postal code, five digits, leading zeros kept"),
]
MunicipalityKey = Annotated[
    str,
    Field(pattern=r"^[0-9]{8}$", description="Amtlicher Gemeindeschluessel (AGS), eight digits"),
]
Money = Annotated[float, Field(ge=0, description="Euro")]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Address(_Strict):
    street: str | None = Field(None, description="Street name, e.g. 'Hauptstrasse'")
    house_number: str | None = Field(None, description="House number, ranges like '8-10' kept")
    postal_code: PostalCode
    city: NonEmpty
    municipality_key: MunicipalityKey | None = None
    state: str | None = Field(None, description="Bundesland")
    country: str = Field("DE", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class GeoPoint(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ContactPerson(_Strict):
    """Personal data: published only when ``public`` is true."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    public: bool = False


class CanonicalRecord(_Strict):
    domain: ClassVar[Domain]

    partner_id: NonEmpty = Field(description="Id of the partner in the registry")
    source_id: NonEmpty = Field(description="The record's own id in the partner's feed")
    title: NonEmpty
    organisation: str | None = Field(None, description="Employer, school or landlord")
    description: str | None = None
    address: Address
    geo: GeoPoint | None = None
    url: HttpUrl | None = Field(None, description="Page with the full offer")
    contact: ContactPerson | None = None
    updated_at: dt.datetime | None = Field(None, description="Last change at the source")

    @field_validator("url", mode="before")
    @classmethod
    def _blank_url(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class JobPosting(CanonicalRecord):
    domain: ClassVar[Domain] = Domain.JOBS

    ba_reference: str | None = Field(None, description="BA reference number (refnr)")
    occupation: str | None = None
    employment_type: EmploymentType = EmploymentType.EMPLOYEE
    working_time: list[WorkingTime] = Field(default_factory=list)
    contract_duration: ContractDuration | None = None
    german_level: CEFRLevel | None = Field(None, description="German level required, if stated")
    german_required: bool | None = Field(None, description=(
        "Whether the posting asks for German: false where the employer says none is needed, "
        "true where it names a level or describes the German wanted; absent where it says "
        "nothing"))
    salary_min: Money | None = Field(None, description="Gross pay in euros per salary_period, at least")
    salary_max: Money | None = Field(None, description="Gross pay in euros per salary_period, at most")
    salary_period: str | None = Field(None, description="'year', 'month' or 'hour'")
    remote_possible: bool | None = None
    start_date: dt.date | None = Field(None, description="First working day; absent: at once")
    published_from: dt.date | None = Field(None, description="Posted on this day")
    valid_through: dt.date | None = Field(None, description="Open for applications until this day")


class CourseOffer(CanonicalRecord):
    domain: ClassVar[Domain] = Domain.COURSES

    course_type: CourseType
    language: str = Field("de", description="Language taught or used, ISO 639-1")
    cefr_levels: list[CEFRLevel] = Field(default_factory=list, description="Levels covered")
    start_date: dt.date | None = Field(None, description="First lesson")
    end_date: dt.date | None = Field(None, description="Last lesson")
    schedule: list[CourseSchedule] = Field(default_factory=list)
    childcare: bool | None = Field(None, description="Childcare offered during lessons")
    price_eur: Money | None = Field(None, description="Price of the whole course in euros; 0: free")
    funded: bool | None = Field(None, description="Free or funded (BAMF, Bildungsgutschein)")
    seats: int | None = Field(None, ge=0, description="Free places; 0: fully booked")


class HousingVacancy(CanonicalRecord):
    domain: ClassVar[Domain] = Domain.HOUSING

    property_type: PropertyType = PropertyType.APARTMENT
    rooms: float | None = Field(None, ge=0, description=(
        "Rooms (Zimmer), kitchen and bathroom not counted; 2.5 for two and a half"))
    living_area: float | None = Field(None, ge=0, description="Square metres")
    cold_rent: Money | None = Field(None, description="Kaltmiete per month")
    warm_rent: Money | None = Field(None, description="Warmmiete per month")
    service_charges: Money | None = Field(None, description="Nebenkosten per month")
    heating_costs: Money | None = Field(None, description="Heizkosten per month")
    deposit: Money | None = Field(None, description="Kaution")
    available_from: dt.date | None = Field(None, description="Free from this day")
    available_from_text: str | None = Field(None, description="Free text, e.g. 'sofort'")
    wbs_required: bool | None = Field(None, description="Wohnberechtigungsschein required")
    barrier_free: bool | None = None
    max_persons: int | None = Field(None, ge=1, description="The most persons the flat is let to")
    floor: int | None = Field(None, description="Floor (Etage): 0 the ground floor, -1 the basement")


RECORD_TYPES: dict[Domain, type[CanonicalRecord]] = {
    Domain.JOBS: JobPosting,
    Domain.COURSES: CourseOffer,
    Domain.HOUSING: HousingVacancy,
}
