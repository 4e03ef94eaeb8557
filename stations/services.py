"""Writes to the station network. Views, forms, admin and imports all come through here."""

from django.db import transaction

from stations.choices import StationKind

# What a station's keepers (its street manager, the bureau) may change, by station kind.
# The standard name is never among them: it follows the divisions (rule N1).
COMMON_FIELDS = (
    "status",
    "address",
    "phone",
    "opening_hours",
    "signboard_name",
    "has_unified_logo",
)
FACILITY_FIELDS = (
    "workspace_m2",
    "desk_sets",
    "computers",
    "has_internet",
    "has_consultation_zone",
    "has_service_zone",
)
ORGANISATION_FIELDS = ("organisation_name", "organisation_credit_code")


def editable_station_fields(kind):
    """The fields of a station of `kind` that its keepers maintain."""
    if kind == StationKind.STREET:
        return COMMON_FIELDS + FACILITY_FIELDS
    if kind == StationKind.PROFESSIONAL:
        return COMMON_FIELDS + ORGANISATION_FIELDS
    return COMMON_FIELDS


@transaction.atomic
def station_update(*, station, **changes):
    """Keep a station's details: its status, where and when it serves, its plaque and facilities.

    Only the fields its kind carries may change (`editable_station_fields`); anything else,
    the standard name included, is refused. The station is validated as a whole
    (`full_clean`) before it is saved, so a bad value (a wrong 统一社会信用代码, a professional
    point without its organisation) raises `ValidationError` and changes nothing.
    Returns the saved station.
    """
    allowed = editable_station_fields(station.kind)
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise TypeError(f"station_update() cannot change {', '.join(unknown)}")
    if "organisation_credit_code" in changes:
        changes["organisation_credit_code"] = (
            (changes["organisation_credit_code"] or "").strip().upper()
        )
    for name, value in changes.items():
        setattr(station, name, value)
    station.full_clean()
    # Only what changed hands (and the name, which save() recomputes): an edit never
    # overwrites a field that someone else changed meanwhile.
    station.save(update_fields=[*changes, "updated_at"])
    return station
