"""No page and no export shows a full ID number: the crawler.

The test seeds rows carrying ID numbers in every street, logs in as each role (and as
nobody), and requests every URL pattern of the project, enumerated as the scope-leak test
does (its helpers, pointed at the user's own rows so that pages show data), and every
export of the project (views marked `@export_view`) in each format. In every response it
looks for a valid 18-character ID number (the GB 11643 checksum and birth date, so that
other long digit strings do not count). The only door to a full number is the reveal
endpoint, a POST for bureau staff; the crawler only reads.

Pages added by later issues are crawled as soon as their URLs exist. Their models with ID
numbers must be seeded here (`SEEDERS`): a test fails until they are, so that the crawler
never looks at empty pages.
"""

import io

import docx
import openpyxl
import pytest
from django.apps import apps

from changning_aid.sensitive import masking
from changning_aid.sensitive.fields import IdNumber, _is_history_model, id_number_models
from changning_aid.sensitive.idnumbers import find_full_id_numbers
from changning_aid.tests.test_scope_leaks import (
    NEUTRAL_URL_NAMES,
    build_world,
    fill_parameters,
    is_public,
    iter_patterns,
    url_from_route,
)
from stations.models import Committee, Station, Street
from stations.tests.factories import make_user
from tests.sensitive_app.factories import make_id_number, make_person


def seed_persons(world):
    """Test persons with ID numbers in every street, at every committee point."""
    for street in Street.objects.all():
        make_person(street, name=f"{street.name}住户", id_number=make_id_number(birth="19560312"))
        for station in Station.objects.filter(street=street, committee__isnull=False):
            make_person(street, station=station, id_number=make_id_number(birth="19880808"))


def seed_recipients(world):
    """A person in hardship at every committee, current, with a need and a service."""
    import datetime

    from cases.tests.factories import make_need, make_recipient

    for committee in Committee.objects.all():
        person = make_recipient(
            committee,
            name=f"{committee.name}困难户",
            current_from=datetime.date(2026, 1, 1),
            phone="13912345678",
            address=f"{committee.name}附近1号",
        )
        make_need(person)


# Model label -> a function of the world that creates rows of it with ID numbers.
SEEDERS = {"sensitive_app.Person": seed_persons, "cases.Recipient": seed_recipients}

ROLES = ["anonymous", "manager_a", "advisor_a", "sysadmin", "auditor", "bureau"]


def seeded_world():
    world = build_world()
    world["auditor"] = make_user("auditor_c", "audit_admin")
    world["anonymous"] = None
    for seeder in SEEDERS.values():
        seeder(world)
    return world


def own_objects(user):
    """For each scoped model, one row the user may see (so that detail pages show data)."""
    objects = {}
    for model in apps.get_models():
        queryset = model._default_manager.all()
        if user is not None and hasattr(queryset, "visible_to"):
            objects[model] = queryset.visible_to(user).order_by("pk").first()
    return objects


def export_text(response):
    """The cells of an exported workbook, the text of a Word document, or the response's text."""
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/vnd.openxmlformats-officedocument.wordprocessingml"):
        document = docx.Document(io.BytesIO(response.content))
        cells = (cell.text for grid in document.tables for row in grid.rows for cell in row.cells)
        return "\n".join([*(p.text for p in document.paragraphs), *cells])
    if content_type.startswith("application/vnd.openxmlformats"):
        workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            "\t".join("" if value is None else str(value) for value in row)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return response.content.decode("utf-8-sig", errors="replace")


def _takes_parameters(route):
    return "<" in route


def crawl(client, user):
    """Request every page and export as `user`; yield (url, status, text)."""
    own = own_objects(user)
    for route, name, callback in iter_patterns():
        if name in NEUTRAL_URL_NAMES or (is_public(name, callback) and _takes_parameters(route)):
            continue  # public pages with parameters (password reset links) show no records
        values = fill_parameters(route, name, own)
        if values is not None and None in values.values():
            continue
        url = url_from_route(route, values)
        response = client.get(url, follow=True)
        yield url, response.status_code, export_text(response)
        if getattr(callback, "export_view", False):
            for file_format in ("csv", "xlsx"):
                for extra in ({}, {"full": "1"}):
                    query = {"format": file_format, "purpose": "核对", **extra}
                    response = client.get(url, query)
                    if user is None or not user.is_bureau or not extra:
                        yield f"{url}?{query}", response.status_code, export_text(response)


def test_every_model_with_id_numbers_is_seeded_for_the_crawler(db):
    """A model with ID numbers that the crawler does not seed makes its pages look empty."""
    seeded_world()
    unseeded = [
        model._meta.label
        for model in id_number_models()
        if not _is_history_model(model)
        and not model._base_manager.exclude(**{"id_number_hash__isnull": True}).exists()
    ]
    assert unseeded == [], f"add the models to SEEDERS in {__name__}: {unseeded}"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ROLES)
def test_no_page_or_export_shows_a_full_id_number(client, who):
    world = seeded_world()
    user = world[who]
    if user is not None:
        client.force_login(user)
    pages = masked_pages = 0
    for url, status, text in crawl(client, user):
        assert status < 500, (who, url, status)
        found = find_full_id_numbers(text)
        assert found == [], f"{who} saw full ID numbers {found} at {url}"
        pages += 1
        masked_pages += "********" in text
    assert pages > 10
    if who in ("manager_a", "advisor_a", "bureau"):
        # The crawler saw the seeded numbers, masked (pages and exports).
        assert masked_pages >= 3, masked_pages


@pytest.mark.django_db
def test_self_check_a_page_that_prints_full_numbers_is_caught(client, monkeypatch):
    """If the masking let numbers through, the crawler would report pages and exports."""
    world = seeded_world()
    client.force_login(world["manager_a"])

    def unmasked(value):
        return value.reveal() if isinstance(value, IdNumber) else str(value or "")

    monkeypatch.setattr(masking, "mask_id_number", unmasked)
    monkeypatch.setitem(masking.MASKS, masking.ID_NUMBER, unmasked)
    monkeypatch.setattr(IdNumber, "__str__", IdNumber.reveal)

    leaks = [
        url
        for url, _status, text in crawl(client, world["manager_a"])
        if find_full_id_numbers(text)
    ]

    assert any("/test-sensitive/persons/" in url for url in leaks)
    assert any("format" in url for url in leaks)  # the exports too
