"""The division import: an NBS division file in, districts, streets, committees and stations out.

A division file lists one committee (居委会 / 村委会 / 虚拟社区...) a row, with its street/town
and district, in the format of 国家统计局's 统计用区划代码 (CSV in UTF-8, or .xlsx, header
`district_code,district_name,street_code,street_name,committee_code,committee_name`).

The import is three steps, so that the command line and the browser share every rule:

- `parse` reads the file and checks every row, touching no database;
- `plan` compares the rows with the database and decides what to create and to change,
  with a JSON summary that the browser shows as its preview;
- `apply` writes exactly that plan, in one transaction, in bulk.

Codes are the identity of a division: a unit whose name changed is renamed, never
duplicated, and the standard names (N1, `stations.naming`) of its stations follow. Station
statuses are never touched; new stations start as 筹建. Units of the file's districts that
the file no longer lists are reported, not deleted: stations, advisors and cases hang on them.
"""

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass, field
from functools import reduce
from operator import or_
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from stations import naming
from stations.choices import CommitteeKind, StationKind, StreetKind
from stations.models import Committee, District, Station, Street

COLUMNS = (
    "district_code",
    "district_name",
    "street_code",
    "street_name",
    "committee_code",
    "committee_name",
)

# Rows written per statement by bulk_create / bulk_update.
BATCH_SIZE = 500

# The three levels of the division tree, top down.
DISTRICT, STREET, COMMITTEE = "district", "street", "committee"
LEVELS = (DISTRICT, STREET, COMMITTEE)
LEVEL_MODELS = {DISTRICT: District, STREET: Street, COMMITTEE: Committee}
CODE_LENGTHS = {DISTRICT: 6, STREET: 9, COMMITTEE: 12}
NAME_MAX_LENGTHS = {
    level: model._meta.get_field("name").max_length for level, model in LEVEL_MODELS.items()
}

# ASCII digits only: str.isdigit() would let full-width and other digits through.
_CODE_PATTERNS = {level: re.compile(f"[0-9]{{{length}}}") for level, length in CODE_LENGTHS.items()}
_XLSX_MAGIC = b"PK\x03\x04"

# The station kinds the import creates, one per unit, as plain strings: enum members hash by
# their name, so they cannot look up values read from the database.
GUIDANCE, STREET_STATION, COMMITTEE_POINT = (
    str(StationKind.GUIDANCE),
    str(StationKind.STREET),
    str(StationKind.COMMITTEE),
)


def level_label(level):
    """The Chinese name of a division level, as the messages and pages use it."""
    return {DISTRICT: _("区"), STREET: _("街镇"), COMMITTEE: _("居村委")}[level]


@dataclass(frozen=True, slots=True)
class DivisionRow:
    """One row of a division file: a committee with its street/town and district."""

    line: int
    district_code: str
    district_name: str
    street_code: str
    street_name: str
    committee_code: str
    committee_name: str

    def code(self, level):
        return getattr(self, f"{level}_code")

    def name(self, level):
        return getattr(self, f"{level}_name")


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem with a division file, at its line (the header is line 1), said in Chinese."""

    line: int | None
    message: str

    def as_dict(self):
        return {"line": self.line, "message": self.message}


@dataclass
class ParsedFile:
    """What `parse` read from a file: its rows, and every error found in them."""

    file_name: str
    rows: list[DivisionRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class _UnreadableFile(Exception):
    """The file cannot be read as a table at all; carries the error to report."""

    def __init__(self, error):
        super().__init__(error.message)
        self.error = error


def _line_error(line, problem):
    return RowError(line, _("第 %(line)s 行:%(problem)s") % {"line": line, "problem": problem})


# Reading ------------------------------------------------------------------------------------


def parse(source, file_name=None):
    """Read a division file and check every row; the database is not touched.

    `source` is the file's content (bytes) or a path; `file_name` (by default the path's
    name) tells an .xlsx workbook from a CSV file, as does the content itself. Returns a
    `ParsedFile` with the rows and every error found, each naming its line (the header is
    line 1). A file with any error must be neither planned nor applied: the import is
    all-or-nothing.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        content = bytes(source)
    else:
        path = Path(source)
        content = path.read_bytes()
        file_name = file_name or path.name
    parsed = ParsedFile(file_name=file_name or "")
    try:
        table = _read_table(content, parsed.file_name)
        _check_table(table, parsed)
    except _UnreadableFile as exc:
        parsed.rows = []
        parsed.errors.append(exc.error)
    if not parsed.rows and not parsed.errors:
        parsed.errors.append(RowError(None, _("文件中没有区划数据。")))
    if parsed.errors:
        parsed.rows = []
    return parsed


def _read_table(content, file_name):
    """The file's rows as (line number, list of cell texts), lazily."""
    suffix = Path(file_name).suffix.lower()
    if suffix == ".xls" or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _UnreadableFile(
            RowError(
                None, _("不支持旧版 Excel (.xls) 文件,请另存为 .xlsx 或 CSV (UTF-8) 后再导入。")
            )
        )
    if suffix == ".xlsx" or content.startswith(_XLSX_MAGIC):
        return _read_xlsx(content)
    return _read_csv(content)


def _read_csv(content):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _UnreadableFile(
            _line_error(line, _("文件不是 UTF-8 编码,请以 CSV (UTF-8) 格式另存后再导入"))
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))

    def rows():
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as exc:
            raise _UnreadableFile(
                _line_error(reader.line_num, _("无法按 CSV 格式读取(%(error)s)") % {"error": exc})
            ) from exc

    return rows()


def _read_xlsx(content):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _UnreadableFile(
            RowError(None, _("无法读取 Excel 文件,请确认是有效的 .xlsx 文件。"))
        ) from exc

    def rows():
        try:
            sheet = workbook.worksheets[0]
            # Read-only sheets pad the gaps with empty rows, so positions are line numbers.
            for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield line, [_cell_text(value) for value in values]
        finally:
            workbook.close()

    return rows()


def _cell_text(value):
    """A cell as text: codes typed as numbers in Excel come back as integers or floats."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_table(table, parsed):
    """Check the header and every row; collect the good rows and every error."""
    rows = iter(table)
    try:
        _line, header = next(rows)
    except StopIteration:
        parsed.errors.append(_line_error(1, _("缺少表头")))
        return
    header = [cell.strip().lstrip("\ufeff").strip() for cell in header]
    while header and not header[-1]:
        header.pop()
    if sorted(header) != sorted(COLUMNS):
        parsed.errors.append(
            _line_error(1, _("表头应为 %(columns)s") % {"columns": ",".join(COLUMNS)})
        )
        return
    position = {column: index for index, column in enumerate(header)}
    width = len(header)

    # The first line and name seen for each code, to catch one code given two names.
    first_seen = {level: {} for level in LEVELS}
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if any(cell.strip() for cell in cells[width:]):
            parsed.errors.append(
                _line_error(line, _("列数多于表头的 %(width)s 列") % {"width": width})
            )
            continue
        cells = cells + [""] * (width - len(cells))
        values = {column: cells[position[column]].strip() for column in COLUMNS}
        row = DivisionRow(line=line, **values)
        problems = _row_problems(row, first_seen)
        if problems:
            parsed.errors.extend(_line_error(line, problem) for problem in problems)
        else:
            parsed.rows.append(row)


def _row_problems(row, first_seen):
    """What is wrong with one row, in Chinese; empty when the row is good."""
    problems = []
    valid_codes = {}
    for level in LEVELS:
        code, name = row.code(level), row.name(level)
        # Labels are translated only for a problem: gettext per good row would slow a city.
        if not code:
            problems.append(_("缺少%(level)s代码") % {"level": level_label(level)})
        elif not _CODE_PATTERNS[level].fullmatch(code):
            problems.append(
                _("%(level)s代码 %(code)s 应为%(length)s位数字")
                % {"level": level_label(level), "code": code, "length": CODE_LENGTHS[level]}
            )
        else:
            valid_codes[level] = code
        if not name:
            problems.append(_("缺少%(level)s名称") % {"level": level_label(level)})
        elif len(name) > NAME_MAX_LENGTHS[level]:
            problems.append(
                _("%(level)s名称“%(name)s”过长(最多 %(max)s 个字)")
                % {"level": level_label(level), "name": name, "max": NAME_MAX_LENGTHS[level]}
            )
    for parent, child in ((DISTRICT, STREET), (STREET, COMMITTEE)):
        if (
            parent in valid_codes
            and child in valid_codes
            and not valid_codes[child].startswith(valid_codes[parent])
        ):
            problems.append(
                _("%(child)s代码 %(code)s 应以%(parent)s代码 %(parent_code)s 开头")
                % {
                    "child": level_label(child),
                    "code": valid_codes[child],
                    "parent": level_label(parent),
                    "parent_code": valid_codes[parent],
                }
            )
    for level, code in valid_codes.items():
        name = row.name(level)
        if not name:
            continue
        seen = first_seen[level].setdefault(code, (row.line, name))
        if seen[1] != name:
            problems.append(
                _(
                    "%(level)s代码 %(code)s 在第 %(other_line)s 行名为“%(other_name)s”,"
                    "此处为“%(name)s”"
                )
                % {
                    "level": level_label(level),
                    "code": code,
                    "other_line": seen[0],
                    "other_name": seen[1],
                    "name": name,
                }
            )
    return problems


# Planning -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitChange:
    """A district, street or committee to create (no pk) or to update (rename, kind, parent)."""

    level: str
    code: str
    name: str
    kind: str = ""
    parent_code: str = ""
    pk: int | None = None
    old_name: str = ""
    old_kind: str = ""
    old_parent_code: str = ""


@dataclass(frozen=True, slots=True)
class StationChange:
    """A station to create (no pk), or one whose standard name or divisions follow a change."""

    kind: str
    name: str
    district_code: str
    street_code: str = ""
    committee_code: str = ""
    pk: int | None = None
    old_name: str = ""


@dataclass
class DivisionPlan:
    """What importing a file would do to the database, decided by `plan` and written by `apply`.

    `known_ids` maps each level's codes to the primary keys of the rows that exist already;
    `apply` adds the new rows' keys as it creates them.
    """

    row_count: int = 0
    districts: dict[str, str] = field(default_factory=dict)
    created: list[UnitChange] = field(default_factory=list)
    updated: list[UnitChange] = field(default_factory=list)
    stations_created: list[StationChange] = field(default_factory=list)
    stations_updated: list[StationChange] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    known_ids: dict[str, dict[str, int]] = field(
        default_factory=lambda: {level: {} for level in LEVELS}
    )

    @property
    def has_changes(self):
        """Whether applying the plan writes anything at all."""
        return bool(self.created or self.updated or self.stations_created or self.stations_updated)

    def fingerprint(self):
        """A digest of every write the plan makes: equal digests, identical writes."""
        writes = [
            [asdict(change) for change in self.created],
            [asdict(change) for change in self.updated],
            [asdict(change) for change in self.stations_created],
            [asdict(change) for change in self.stations_updated],
        ]
        text = json.dumps(writes, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self):
        """The plan as JSON-serialisable data: counts, renamed and no longer listed units.

        This is what the browser stores as a preview and shows, and what a confirmation
        compares with a fresh plan: equal summaries (the fingerprint included) mean that
        applying the fresh plan writes exactly what was previewed.
        """
        counts = {level: {"created": 0, "updated": 0, "missing": 0} for level in LEVELS}
        for change in self.created:
            counts[change.level]["created"] += 1
        for change in self.updated:
            counts[change.level]["updated"] += 1
        for unit in self.missing:
            counts[unit["level"]]["missing"] += 1
        by_kind = {GUIDANCE: 0, STREET_STATION: 0, COMMITTEE_POINT: 0}
        for station in self.stations_created:
            by_kind[station.kind] += 1
        counts["stations"] = {
            "created": len(self.stations_created),
            "updated": len(self.stations_updated),
            "created_by_kind": by_kind,
        }
        return {
            "rows": self.row_count,
            "districts": [{"code": code, "name": name} for code, name in self.districts.items()],
            "counts": counts,
            "changes": [
                {
                    "level": change.level,
                    "code": change.code,
                    "old_name": change.old_name,
                    "new_name": change.name,
                    "old_kind": change.old_kind,
                    "new_kind": change.kind,
                    "old_parent": change.old_parent_code,
                    "new_parent": change.parent_code,
                }
                for change in self.updated
            ],
            "missing": list(self.missing),
            "has_changes": self.has_changes,
            "fingerprint": self.fingerprint(),
            "errors": [],
        }


def _under(lookup, prefixes):
    """Rows whose `lookup` starts with one of the prefixes (division codes nest)."""
    return reduce(or_, (Q(**{f"{lookup}__startswith": prefix}) for prefix in prefixes))


def plan(rows):
    """Decide what importing `rows` (from a `parse` without errors) would create and change.

    Reads the divisions and stations of the file's districts in a few queries and compares
    them by code: new units and their stations are created; renamed units (and units whose
    kind or parent changed) are updated, and so are the standard names of the stations
    that depend on them (professional points included). Units of those districts that the
    file no longer lists are reported in `missing`. Writes nothing; see `apply`.
    """
    file_units = {DISTRICT: {}, STREET: {}, COMMITTEE: {}}  # level -> code -> (name, parent)
    for row in rows:
        file_units[DISTRICT][row.district_code] = (row.district_name, "")
        file_units[STREET][row.street_code] = (row.street_name, row.district_code)
        file_units[COMMITTEE][row.committee_code] = (row.committee_name, row.street_code)
    covered = sorted(file_units[DISTRICT])
    result = DivisionPlan(
        row_count=len(rows),
        districts={code: file_units[DISTRICT][code][0] for code in covered},
    )
    if not covered:
        return result

    # The existing rows, by pk: (code, name, kind, parent pk).
    districts = {
        pk: (code, name, "", None)
        for pk, code, name in District.objects.filter(code__in=covered).values_list(
            "pk", "code", "name"
        )
    }
    streets = {
        pk: (code, name, kind, parent)
        for pk, code, name, kind, parent in Street.objects.filter(
            Q(district__code__in=covered) | _under("code", covered)
        ).values_list("pk", "code", "name", "kind", "district_id")
    }
    committees = {
        pk: (code, name, kind, parent)
        for pk, code, name, kind, parent in Committee.objects.filter(
            Q(street__district__code__in=covered) | _under("code", covered)
        ).values_list("pk", "code", "name", "kind", "street_id")
    }
    stations = list(
        Station.objects.filter(
            Q(district__code__in=covered)
            | _under("street__code", covered)
            | _under("committee__code", covered)
        )
        .order_by("pk")
        .values_list(
            "pk", "kind", "name", "organisation_name", "district_id", "street_id", "committee_id"
        )
    )
    # Parents outside the file's districts (only where data were inconsistent before).
    _load_missing_parents(stations, districts, streets, committees)

    by_pk = {DISTRICT: districts, STREET: streets, COMMITTEE: committees}
    parent_level = {STREET: DISTRICT, COMMITTEE: STREET}
    # level -> code -> (name, kind, parent code), as the database has them now.
    existing = {level: {} for level in LEVELS}
    for level, units in by_pk.items():
        for pk, (code, name, kind, parent) in units.items():
            parent_code = by_pk[parent_level[level]][parent][0] if level != DISTRICT else ""
            existing[level][code] = (name, kind, parent_code)
            result.known_ids[level][code] = pk

    kind_for = {
        DISTRICT: lambda name: "",
        STREET: naming.street_kind_for,
        COMMITTEE: naming.committee_kind_for,
    }
    # level -> code -> (name, parent code) after the import.
    after = {
        level: {code: (name, parent) for code, (name, _kind, parent) in existing[level].items()}
        for level in LEVELS
    }
    for level in LEVELS:
        for code, (name, parent_code) in sorted(file_units[level].items()):
            kind = str(kind_for[level](name))
            after[level][code] = (name, parent_code)
            now = existing[level].get(code)
            if now is None:
                result.created.append(UnitChange(level, code, name, kind, parent_code))
            elif now != (name, kind, parent_code):
                result.updated.append(
                    UnitChange(
                        level,
                        code,
                        name,
                        kind,
                        parent_code,
                        pk=result.known_ids[level][code],
                        old_name=now[0],
                        old_kind=now[1],
                        old_parent_code=now[2],
                    )
                )

    # Units of the file's districts that the file no longer lists (by their current place).
    def district_of(level, code):
        while level != DISTRICT:
            code = existing[level][code][2]
            level = parent_level[level]
        return code

    covered_set = set(covered)
    for level in (STREET, COMMITTEE):
        for code in sorted(existing[level]):
            if code not in file_units[level] and district_of(level, code) in covered_set:
                name = existing[level][code][0]
                result.missing.append({"level": level, "code": code, "name": name})

    _plan_stations(result, stations, by_pk, after, file_units)
    return result


def _load_missing_parents(stations, districts, streets, committees):
    """Add to the maps the divisions that loaded rows point at but that were not loaded."""
    wanted = {committee_id for *_rest, committee_id in stations if committee_id} - committees.keys()
    if wanted:
        committees.update(
            (pk, (code, name, kind, parent))
            for pk, code, name, kind, parent in Committee.objects.filter(pk__in=wanted).values_list(
                "pk", "code", "name", "kind", "street_id"
            )
        )
    wanted = (
        {parent for *_rest, parent in committees.values()}
        | {station[5] for station in stations if station[5]}
    ) - streets.keys()
    if wanted:
        streets.update(
            (pk, (code, name, kind, parent))
            for pk, code, name, kind, parent in Street.objects.filter(pk__in=wanted).values_list(
                "pk", "code", "name", "kind", "district_id"
            )
        )
    wanted = (
        {parent for *_rest, parent in streets.values()} | {station[4] for station in stations}
    ) - districts.keys()
    if wanted:
        districts.update(
            (pk, (code, name, "", None))
            for pk, code, name in District.objects.filter(pk__in=wanted).values_list(
                "pk", "code", "name"
            )
        )


def _plan_stations(result, stations, by_pk, after, file_units):
    """Stations to create for the file's units, and stations whose name or divisions change."""
    # The units that have their station already: district, street and committee codes.
    has_station = {GUIDANCE: set(), STREET_STATION: set(), COMMITTEE_POINT: set()}

    def standard(kind, district_code, street_code="", committee_code="", organisation_name=""):
        return naming.standard_name(
            kind=kind,
            district_name=after[DISTRICT][district_code][0],
            street_name=after[STREET][street_code][0] if street_code else "",
            committee_name=after[COMMITTEE][committee_code][0] if committee_code else "",
            organisation_name=organisation_name,
        )

    for pk, kind, name, organisation_name, district_id, street_id, committee_id in stations:
        old_district = by_pk[DISTRICT][district_id][0]
        old_street = by_pk[STREET][street_id][0] if street_id else ""
        committee_code = by_pk[COMMITTEE][committee_id][0] if committee_id else ""
        # A station sits where its committee, or else its street, sits after the import.
        street_code = after[COMMITTEE][committee_code][1] if committee_code else old_street
        district_code = after[STREET][street_code][1] if street_code else old_district
        new_name = standard(kind, district_code, street_code, committee_code, organisation_name)
        if kind in has_station:
            served = {
                GUIDANCE: district_code,
                STREET_STATION: street_code,
                COMMITTEE_POINT: committee_code,
            }
            has_station[kind].add(served[kind])
        if (new_name, district_code, street_code) != (name, old_district, old_street):
            result.stations_updated.append(
                StationChange(kind, new_name, district_code, street_code, committee_code, pk, name)
            )

    for code in sorted(file_units[DISTRICT]):
        if code not in has_station[GUIDANCE]:
            result.stations_created.append(StationChange(GUIDANCE, standard(GUIDANCE, code), code))
    for code, (_name, district_code) in sorted(file_units[STREET].items()):
        if code not in has_station[STREET_STATION]:
            result.stations_created.append(
                StationChange(
                    STREET_STATION,
                    standard(STREET_STATION, district_code, code),
                    district_code,
                    code,
                )
            )
    for code, (_name, street_code) in sorted(file_units[COMMITTEE].items()):
        if code not in has_station[COMMITTEE_POINT]:
            district_code = file_units[STREET][street_code][1]
            result.stations_created.append(
                StationChange(
                    COMMITTEE_POINT,
                    standard(COMMITTEE_POINT, district_code, street_code, code),
                    district_code,
                    street_code,
                    code,
                )
            )


# Applying -----------------------------------------------------------------------------------


def _ids_by_code(model, created, prefixes):
    """The keys of freshly bulk-created rows, from the insert itself where the database says."""
    if all(obj.pk is not None for obj in created):
        return {obj.code: obj.pk for obj in created}
    return dict(model.objects.filter(_under("code", prefixes)).values_list("code", "pk"))


@transaction.atomic
def apply(division_plan):
    """Write a plan from `plan`: exactly its creations and updates, in one transaction.

    Uses bulk inserts and updates in batches, so a city's file takes seconds. Stations'
    standard names are set here from `stations.naming` (bulk writes skip `Station.save`);
    their status is never touched and new stations start as 筹建. Returns the plan's
    summary, as the record of what was written.
    """
    current = division_plan  # `plan` is the function that made it
    ids = {level: dict(current.known_ids[level]) for level in LEVELS}
    prefixes = sorted(current.districts)

    def created(level):
        return [change for change in current.created if change.level == level]

    def updated(level):
        return [change for change in current.updated if change.level == level]

    new_districts = [District(code=c.code, name=c.name) for c in created(DISTRICT)]
    District.objects.bulk_create(new_districts, batch_size=BATCH_SIZE)
    if new_districts:
        ids[DISTRICT].update(_ids_by_code(District, new_districts, prefixes))
    District.objects.bulk_update(
        [District(pk=c.pk, code=c.code, name=c.name) for c in updated(DISTRICT)],
        ["name"],
        batch_size=BATCH_SIZE,
    )

    new_streets = [
        Street(code=c.code, name=c.name, kind=c.kind, district_id=ids[DISTRICT][c.parent_code])
        for c in created(STREET)
    ]
    Street.objects.bulk_create(new_streets, batch_size=BATCH_SIZE)
    if new_streets:
        ids[STREET].update(_ids_by_code(Street, new_streets, prefixes))
    Street.objects.bulk_update(
        [
            Street(
                pk=c.pk,
                code=c.code,
                name=c.name,
                kind=c.kind,
                district_id=ids[DISTRICT][c.parent_code],
            )
            for c in updated(STREET)
        ],
        ["name", "kind", "district"],
        batch_size=BATCH_SIZE,
    )

    new_committees = [
        Committee(code=c.code, name=c.name, kind=c.kind, street_id=ids[STREET][c.parent_code])
        for c in created(COMMITTEE)
    ]
    Committee.objects.bulk_create(new_committees, batch_size=BATCH_SIZE)
    if new_committees:
        ids[COMMITTEE].update(_ids_by_code(Committee, new_committees, prefixes))
    Committee.objects.bulk_update(
        [
            Committee(
                pk=c.pk, code=c.code, name=c.name, kind=c.kind, street_id=ids[STREET][c.parent_code]
            )
            for c in updated(COMMITTEE)
        ],
        ["name", "kind", "street"],
        batch_size=BATCH_SIZE,
    )

    def station(change, **extra):
        return Station(
            kind=change.kind,
            name=change.name,
            district_id=ids[DISTRICT][change.district_code],
            street_id=ids[STREET][change.street_code] if change.street_code else None,
            committee_id=ids[COMMITTEE][change.committee_code] if change.committee_code else None,
            **extra,
        )

    # New stations take the model's defaults: status 筹建, no address yet.
    Station.objects.bulk_create(
        [station(change) for change in current.stations_created], batch_size=BATCH_SIZE
    )
    # bulk_update does not touch auto_now fields by itself.
    now = timezone.now()
    Station.objects.bulk_update(
        [station(change, pk=change.pk, updated_at=now) for change in current.stations_updated],
        ["name", "district", "street", "updated_at"],
        batch_size=BATCH_SIZE,
    )
    return current.summary()


# Convenience for the command and the browser ------------------------------------------------


def error_summary(errors, row_count=0):
    """A summary in the shape of `DivisionPlan.summary` for a file that cannot be imported."""
    summary = DivisionPlan(row_count=row_count).summary()
    summary["errors"] = [error.as_dict() for error in errors]
    summary["fingerprint"] = ""
    return summary


def preview_file(source, file_name=None):
    """Parse and plan a file without writing: the summary the browser stores as its preview."""
    parsed = parse(source, file_name)
    if parsed.errors:
        return error_summary(parsed.errors)
    return plan(parsed.rows).summary()


def describe_change(change):
    """One renamed (or re-kinded, or moved) unit of a summary, as a line of Chinese text."""
    text = _("%(level)s %(code)s:") % {
        "level": level_label(change["level"]),
        "code": change["code"],
    }
    parts = []
    if change["old_name"] != change["new_name"]:
        parts.append(
            _("“%(old)s”更名为“%(new)s”") % {"old": change["old_name"], "new": change["new_name"]}
        )
    if change["old_kind"] != change["new_kind"] and change["level"] != DISTRICT:
        choices = StreetKind if change["level"] == STREET else CommitteeKind
        parts.append(
            _("类型由%(old)s改为%(new)s")
            % {
                "old": _kind_label(choices, change["old_kind"]),
                "new": _kind_label(choices, change["new_kind"]),
            }
        )
    if change["old_parent"] != change["new_parent"]:
        parts.append(
            _("上级代码由 %(old)s 改为 %(new)s")
            % {"old": change["old_parent"] or "-", "new": change["new_parent"]}
        )
    return text + _(",").join(parts)


def _kind_label(choices, value):
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "-"


def describe_missing(unit):
    """A unit that the file no longer lists, as a line of Chinese text."""
    return _("%(level)s %(code)s %(name)s") % {
        "level": level_label(unit["level"]),
        "code": unit["code"],
        "name": unit["name"],
    }


def count_table(summary):
    """The summary's counts as rows (label, created, updated, missing) for a page or report."""
    counts = summary["counts"]
    table = [
        (
            level_label(level),
            counts[level]["created"],
            counts[level]["updated"],
            counts[level]["missing"] if level != DISTRICT else None,
        )
        for level in LEVELS
    ]
    table.append(
        (_("服务站点"), counts["stations"]["created"], counts["stations"]["updated"], None)
    )
    return table


def report_lines(summary):
    """The summary as lines of Chinese text, for the command's output."""
    counts = summary["counts"]
    districts = "、".join(f"{d['name']}({d['code']})" for d in summary["districts"])
    lines = [
        _("区划文件共 %(rows)s 行,涉及 %(count)s 个区:%(districts)s。")
        % {"rows": summary["rows"], "count": len(summary["districts"]), "districts": districts},
        _("区:新增 %(created)s 个,更名 %(updated)s 个。") % counts[DISTRICT],
        _("街镇:新增 %(created)s 个,更名或变更 %(updated)s 个,文件中已不再列出 %(missing)s 个。")
        % counts[STREET],
        _("居村委:新增 %(created)s 个,更名或变更 %(updated)s 个,文件中已不再列出 %(missing)s 个。")
        % counts[COMMITTEE],
        _(
            "服务站点:新增 %(created)s 个(区指导站 %(guidance)s 个、街镇服务站 %(street)s 个、"
            "居委服务点 %(committee)s 个),标准名称更新 %(updated)s 个。"
        )
        % {
            "created": counts["stations"]["created"],
            "updated": counts["stations"]["updated"],
            **counts["stations"]["created_by_kind"],
        },
    ]
    if summary["changes"]:
        lines.append(_("更名或变更的区划:"))
        lines.extend("  " + describe_change(change) for change in summary["changes"])
    if summary["missing"]:
        lines.append(_("文件中已不再列出的区划(未删除,请核实):"))
        lines.extend("  " + describe_missing(unit) for unit in summary["missing"])
    return lines
