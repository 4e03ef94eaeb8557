"""Scope that cannot leak: every URL of the project, asked for another street's rows.

The test enumerates the URL patterns of the project by itself, so a view added later
is covered without anyone remembering to. For each logged-in role it requests every
pattern: those that take an object with the ids or codes of objects outside the user's
scope (which must answer 404 and show nothing), those that take none with filters
naming the other street (which must not show its names). A pattern the test cannot
fill in fails the test until someone teaches it (`PARAMETER_VALUES`), and a view that
does not require a login must be declared public with `login_not_required`.
"""

import datetime
import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.choices import Role
from accounts.models import User
from advisors.models import Advisor, Nomination, Training, Volunteer
from advisors.tests.factories import make_advisor, make_training
from cases.choices import ServiceItem, ServiceTask
from cases.models import (
    Lead,
    LeadFact,
    LeadSource,
    LeadUpload,
    Need,
    Recipient,
    Resource,
    ServiceRecord,
)
from cases.tests.factories import make_need, make_recipient, make_resource
from notifications.models import Notification
from stations.models import Committee, District, Station, Street
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    make_two_streets,
    make_user,
)
from supervision import bulletins, engine
from supervision.models import (
    Bulletin,
    EvidenceFile,
    Finding,
    FindingAttachment,
    Inspection,
    RectificationOrder,
)
from supervision.tests.inspection_factories import make_oversight
from visits.models import Visit
from visits.tests.factories import make_visit

# Views that anyone may open without logging in; nothing else may be public.
PUBLIC_URL_NAMES = {
    "public:directory",
    "public_evaluation:evaluate",
    "login",
    "logout",
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:view_on_site",
    "admin:jsi18n",
}

# Patterns that carry no scoped data whatever their parameters.
NEUTRAL_URL_NAMES = {"admin:app_list", "admin:view_on_site"}


def iter_patterns(resolver=None, prefix="", namespace=None):
    """Yield (route regex, url name, callback) for every pattern of the project."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = ":".join(filter(None, [namespace, ns])) if ns else namespace
            yield from iter_patterns(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name, entry.callback


def build_world():
    """Two streets of 长宁区 and a street of 徐汇区, each name distinct."""
    world = make_two_streets()
    other_district = make_district("310104", "徐汇区")
    other_street = make_street(other_district, "天平路街道", "310104003")
    make_committee(other_street, "建襄居委会", "310104003001")
    world["other_district"] = other_district
    world["other_street"] = other_street
    make_user("manager_xuhui", Role.STREET_MANAGER, street=other_street)
    # An advisor and a street training in each street of 长宁区, for the advisor pages.
    for street, committees in (
        (world["street_a"], world["committees_a"]),
        (world["street_b"], world["committees_b"]),
    ):
        advisor = make_advisor(street, [committee_point(committees[0])])
        make_training(street=street, date=datetime.date.today())
        # A person with a need and a service, and a resource of the street, for the case pages.
        person = make_recipient(
            committees[0],
            name=f"{street.name}困难户",
            advisor=advisor,
            current_from=datetime.date(2026, 1, 1),
        )
        make_need(person)
        resource = make_resource(street=street, name=f"{street.name}资源")
        ServiceRecord.objects.create(
            date=datetime.date(2026, 1, 5),
            advisor=advisor,
            station=committee_point(committees[0]),
            recipient=person,
            item=ServiceItem.DISCOVERY,
            task=ServiceTask.HOME_VISIT,
            content="上门走访",
            resource=resource,
        )
        make_visit(person, advisor, datetime.date(2026, 1, 6), findings=f"{street.name}走访")
        # An inspection, its finding and photo, an order and its answer's evidence.
        manager = world["manager_a" if street == world["street_a"] else "manager_b"]
        make_oversight(street, bureau=world["bureau"], manager=manager)
    seed_leads(world)
    return world


def seed_leads(world):
    """A department's list naming, in each street, a new person (a lead, visited once with a
    need) and the street's person in hardship (a fact on their file)."""
    from cases import leads as lead_services
    from cases.tests.factories import id_number
    from cases.tests.lead_factories import make_source, upload_list
    from visits.choices import VisitMethod

    rows = []
    for committees in (world["committees_a"], world["committees_b"]):
        person = Recipient.objects.filter(committee=committees[0]).order_by("pk").first()
        rows.append([f"{committees[0].name}线索人", id_number(), committees[0].code, "", "低收入"])
        rows.append([person.name, person.plain_id_number(), "", "", "残疾二级"])
    source = make_source(world["district"])
    upload_list(world["bureau"], source, rows)
    for lead in Lead.objects.select_related("street"):
        advisor = Advisor.objects.filter(street=lead.street).order_by("pk").first()
        lead_services.record_lead_visit(
            actor=world["bureau"],
            lead=lead,
            advisor=advisor,
            visited_on=lead.found_on,
            method=VisitMethod.HOME,
            needs=[{"category": "living", "description": f"{lead.street.name}线索需求"}],
        )


def foreign_objects(user):
    """For each scoped model, one row the user must not see."""
    objects = {}
    for model in (
        District,
        Street,
        Committee,
        Station,
        Advisor,
        Training,
        Recipient,
        Need,
        Resource,
        ServiceRecord,
        Visit,
        Lead,
        LeadFact,
        LeadUpload,
        LeadSource,
        Inspection,
        Finding,
        FindingAttachment,
        RectificationOrder,
        EvidenceFile,
        type(user),
    ):
        visible = model._default_manager.visible_to(user).values("pk")
        objects[model] = model._default_manager.exclude(pk__in=visible).order_by("pk").first()
    return objects


def foreign_words(user):
    """Names that would betray another area's data if they showed up in a page."""
    visible_committees = set(Committee.objects.visible_to(user).values_list("pk", flat=True))
    visible_streets = set(Street.objects.visible_to(user).values_list("pk", flat=True))
    visible_districts = set(District.objects.visible_to(user).values_list("pk", flat=True))
    words = set()
    for committee in Committee.objects.select_related("street"):
        if committee.street_id not in visible_streets and committee.pk not in visible_committees:
            words.add(committee.name.removesuffix("会"))
    for street in Street.objects.exclude(pk__in=visible_streets):
        words.add(street.name)
    for district in District.objects.exclude(pk__in=visible_districts):
        words.add(district.name)
    visible_users = type(user)._default_manager.visible_to(user).values("pk")
    for username in (
        type(user)._default_manager.exclude(pk__in=visible_users).values_list("username", flat=True)
    ):
        words.add(username)
    return words


ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")


def fill_parameters(route, name, foreign):
    """The URL for `route` pointed at out-of-scope objects, or None when it takes none."""
    params = re.findall(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>", route)
    if not params:
        return None
    values = {}
    admin_match = ADMIN_MODEL_ROUTE.match(route)
    for _converter, param, regex_param in params:
        param = param or regex_param
        if admin_match and param in ("object_id", "id"):
            model = admin_model(admin_match["app"], admin_match["model"])
            obj = foreign.get(model)
            values[param] = obj.pk if obj else None
        elif name in PARAMETER_VALUES and param in PARAMETER_VALUES[name]:
            values[param] = PARAMETER_VALUES[name][param](foreign)
        elif param in ("app_label",):
            values[param] = "stations"
        elif param == "url":  # the admin's catch-all for unknown addresses
            values[param] = "no-such-page/"
        else:
            pytest.fail(
                f"URL {name!r} ({route}) takes {param!r}, which this test cannot fill in: "
                "add it to PARAMETER_VALUES so that its scoping is checked."
            )
    return values


def admin_model(app_label, model_name):
    for model in admin.site._registry:
        if model._meta.app_label == app_label and model._meta.model_name == model_name:
            return model
    return None


def attribute_of(model, attribute):
    """A parameter value taken from the out-of-scope row of `model` (None when there is none)."""
    return lambda foreign: getattr(foreign[model], attribute) if foreign.get(model) else None


def foreign_notification(foreign):
    """A notification addressed to the out-of-scope login (None when there is none)."""
    if not foreign.get(User):
        return None
    return Notification.objects.get_or_create(
        recipient=foreign[User], dedupe_key="scope-test", defaults={"title": "范围测试通知"}
    )[0].pk


def foreign_bulletin(foreign):
    """A published bulletin of a district outside the user's scope (None when there is none)."""
    if not foreign.get(District):
        return None
    author = User.objects.order_by("pk").first()
    # Its figures as the bulletins' own code freezes them, so that its pages render whole.
    data = bulletins.snapshot(foreign[District], engine.parse_period("2026-01"))
    return Bulletin.objects.get_or_create(
        district=foreign[District],
        period="2026-01",
        defaults={
            "title": "范围测试通报",
            "data": data,
            "status": "published",
            "published_by": author,
            "published_at": datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC),
            "created_by": author,
        },
    )[0].pk


PARAMETER_VALUES = {
    # 政策找人: leads, the lists received, their sources, and facts on a person's file.
    **{
        f"cases:{name}": {"pk": attribute_of(Lead, "pk")}
        for name in ("lead_detail", "lead_visit", "lead_enrol", "lead_close", "lead_assign")
    },
    "cases:lead_place": {"pk": attribute_of(Lead, "pk")},
    **{
        f"cases:{name}": {"pk": attribute_of(LeadUpload, "pk")}
        for name in ("lead_upload_detail", "lead_upload_mapping", "lead_upload_report")
    },
    "cases:lead_source_edit": {"pk": attribute_of(LeadSource, "pk")},
    "visits:fact_acknowledge": {"pk": attribute_of(LeadFact, "pk")},
    "stations:street_detail": {"code": attribute_of(Street, "code")},
    # The deliberately unscoped view of the self-check (leaky_urls).
    "leaky_station_detail": {"pk": attribute_of(Station, "pk")},
    "stations:station_detail": {"pk": attribute_of(Station, "pk")},
    "stations:station_edit": {"pk": attribute_of(Station, "pk")},
    # Division files belong to the system administrator; no other role may open any.
    "stations:division_import_preview": {"pk": lambda foreign: 999999},
    # Account pages: a login outside the user's scope.
    "accounts:detail": {"pk": attribute_of(User, "pk")},
    "accounts:edit": {"pk": attribute_of(User, "pk")},
    "accounts:reset_password": {"pk": attribute_of(User, "pk")},
    "accounts:temporary_password": {"pk": attribute_of(User, "pk")},
    "accounts:deactivate": {"pk": attribute_of(User, "pk")},
    "accounts:reactivate": {"pk": attribute_of(User, "pk")},
    # Advisor pages: an advisor or a training of another street.
    **{
        f"advisors:{name}": {"pk": attribute_of(Advisor, "pk")}
        for name in ("detail", "edit", "submit", "file", "send_back", "revoke", "leave")
    },
    "advisors:training_detail": {"pk": attribute_of(Training, "pk")},
    # Nominations: of an advisor of another street, made when first asked for.
    "advisors:nominate": {"pk": attribute_of(Advisor, "pk")},
    **{
        f"advisors:{name}": {
            "pk": lambda foreign: (
                foreign.get(Advisor)
                and Nomination.objects.get_or_create(
                    advisor=foreign[Advisor],
                    title="star",
                    year=2026,
                    defaults={
                        "reason": "范围测试提名",
                        "nominated_by": User.objects.order_by("pk").first(),
                    },
                )[0].pk
            )
        }
        for name in ("nomination_confirm", "nomination_decline")
    },
    # Volunteer pages: a volunteer of the street given, made when first asked for.
    **{
        f"advisors:volunteers:{name}": {
            "pk": lambda foreign: (
                foreign.get(Street)
                and Volunteer.objects.get_or_create(
                    street=foreign[Street],
                    name=f"{foreign[Street].name}志愿者",
                    defaults={"active_from": datetime.date(2024, 1, 1)},
                )[0].pk
            )
        }
        for name in ("detail", "edit", "end")
    },
    # A roster file kept for its preview is its uploader's alone.
    "advisors:import_preview": {"pk": lambda foreign: 999999},
    # Case pages: a person, a need, a resource or a service of another street.
    **{
        f"cases:{name}": {"pk": attribute_of(Recipient, "pk")}
        for name in (
            "recipient_detail",
            "recipient_edit",
            "current_start",
            "current_end",
            "recipient_exit",
            "need_create",
        )
    },
    "cases:need_detail": {"pk": attribute_of(Need, "pk")},
    "cases:resource_detail": {"pk": attribute_of(Resource, "pk")},
    "cases:resource_edit": {"pk": attribute_of(Resource, "pk")},
    "cases:service_detail": {"pk": attribute_of(ServiceRecord, "pk")},
    "cases:street_checklists": {"code": attribute_of(Street, "code")},
    "cases:evaluation_qr": {"pk": attribute_of(Station, "pk")},
    "public_evaluation:evaluate": {"pk": attribute_of(Station, "pk")},
    "cases:checklist_review": {"code": attribute_of(Street, "code")},
    # Visit pages: a visit of another street.
    **{
        f"visits:{name}": {"pk": attribute_of(Visit, "pk")}
        for name in ("detail", "edit", "withdraw")
    },
    # Notifications: one of a login outside the user's scope, made when first asked for.
    **{f"notifications:{name}": {"pk": foreign_notification} for name in ("open", "read")},
    # Supervision pages: an inspection, a finding, an order or a file of another street.
    "supervision:inspection_detail": {"pk": attribute_of(Inspection, "pk")},
    "supervision:finding_order": {"pk": attribute_of(Finding, "pk")},
    "supervision:finding_file": {"pk": attribute_of(FindingAttachment, "pk")},
    **{
        f"supervision:{name}": {"pk": attribute_of(RectificationOrder, "pk")}
        for name in (
            "order_detail",
            "order_answer",
            "order_verify",
            "order_send_back",
            "order_extend",
        )
    },
    "supervision:evidence_file": {"pk": attribute_of(EvidenceFile, "pk")},
    # Assessment pages: the year is always read in the user's own district, so no year
    # points at another area; a year the assessment cannot have (before 2000) is 404 for all.
    **{
        f"supervision:{name}": {"year": lambda foreign: 1999}
        for name in (
            "assessment_scorecard",
            "assessment_plan",
            "assessment_manual",
            "assessment_close",
            "assessment_export",
        )
    },
    # Bulletins: a published bulletin of another district, made when first asked for.
    **{
        f"supervision:{name}": {"pk": foreign_bulletin}
        for name in ("bulletin_detail", "bulletin_edit", "bulletin_publish", "bulletin_export")
    },
    # Files kept for their preview are their uploader's alone.
    "visits:import_preview": {"pk": lambda foreign: 999999},
    "cases:current_list_import_preview": {"pk": lambda foreign: 999999},
    # A checklist file kept for its preview is its uploader's alone.
    **{
        f"cases:{checklist}_import_preview": {"pk": lambda foreign: 999999}
        for checklist in ("needs", "resources", "services", "recipients")
    },
}


def url_from_route(route, values):
    """Turn a route string (path converters or regex) into a concrete URL."""
    url = route
    for key, value in (values or {}).items():
        url = re.sub(rf"<(?:\w+:)?{key}>", str(value), url)
        url = re.sub(rf"\(\?P<{key}>[^)]*\)", str(value), url)
    url = url.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    return "/" + url.lstrip("/")


def is_public(name, callback):
    return getattr(callback, "login_required", True) is False or name in PUBLIC_URL_NAMES


@pytest.mark.django_db
def test_every_view_is_either_public_by_declaration_or_needs_a_login():
    """A view open without login must be declared in PUBLIC_URL_NAMES."""
    assert undeclared_public_views() == []


def undeclared_public_views():
    """Views marked `login_not_required` that are not declared public here."""
    return [
        name or route
        for route, name, callback in iter_patterns()
        if name not in NEUTRAL_URL_NAMES
        and getattr(callback, "login_required", True) is False
        and name not in PUBLIC_URL_NAMES
    ]


@pytest.mark.django_db
def test_anonymous_users_get_nothing_but_public_pages(client):
    build_world()
    foreign = {
        model: model._default_manager.order_by("pk").first()
        for model in (District, Street, Committee, Station)
    }
    foreign[User] = User.objects.order_by("pk").first()
    for route, name, callback in iter_patterns():
        if is_public(name, callback) or name in NEUTRAL_URL_NAMES:
            continue
        url = url_from_route(route, fill_parameters(route, name, foreign))
        response = client.get(url)
        assert response.status_code in (302, 404), (name, url, response.status_code)
        if response.status_code == 302:
            # The admin's own login page hands over to the application's login.
            assert response["Location"].startswith(("/accounts/login/", "/admin/login/")), (
                name,
                url,
            )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bureau", "manager_a", "advisor_a", "manager_b", "sysadmin"])
def test_no_view_shows_another_areas_rows(client, who):
    """Every URL, as every role, asked for another area's rows: 404 or no trace of them."""
    world = build_world()
    problems, checked = find_leaks(client, world[who])
    assert problems == []
    assert checked > 10


def find_leaks(client, user):
    """Ask every URL of the project, as `user`, for rows outside the user's scope.

    Returns the problems found (a page that answers something else than 404 for another
    area's object, or shows another area's names) and the number of URLs checked.
    """
    client.force_login(user)
    foreign = foreign_objects(user)
    words = foreign_words(user)
    other_street = next(
        iter(Street.objects.exclude(pk__in=Street.objects.visible_to(user).values("pk"))), None
    )
    problems = []
    checked = 0
    for route, name, callback in iter_patterns():
        if is_public(name, callback) or name in NEUTRAL_URL_NAMES:
            continue
        values = fill_parameters(route, name, foreign)
        if values is not None and None in values.values():
            continue  # the user sees every row of that model: nothing to leak
        url = url_from_route(route, values)
        checked += 1
        if values is not None:
            for method in ("get", "post"):
                response = getattr(client, method)(url, follow=True)
                if response.status_code != 404:
                    problems.append(f"{method.upper()} {url} ({name}): {response.status_code}")
            continue
        # A page without parameters: ask for the other street by every filter we use.
        query = {}
        if other_street is not None:
            query = {
                "street": other_street.code,
                # a search that finds the street's rows without echoing its full name
                "q": other_street.name[:-1],
                "street__id__exact": other_street.pk,
                "district": other_street.district.code,
            }
        response = client.get(url, query, follow=True)
        # 403 is Django's answer to an autocomplete asked without its parameters.
        if response.status_code not in (200, 403, 404, 405):
            problems.append(f"GET {url} ({name}): {response.status_code}")
        body = response.content.decode("utf-8", errors="replace")
        if response.status_code == 200 and "/public/" not in response.request["PATH_INFO"]:
            leaked = sorted(word for word in words if word in body)
            if leaked:
                problems.append(f"GET {url} ({name}) shows {leaked}")
    return problems, checked


@pytest.mark.django_db
@pytest.mark.urls("changning_aid.tests.leaky_urls")
def test_self_check_an_unscoped_view_is_caught(client):
    """Self-check: the project's URLs plus two views that forget `visible_to` fail the check."""
    world = build_world()
    problems, _checked = find_leaks(client, world["manager_a"])
    assert any("leaky_station_names" in problem and "江苏路街道" in problem for problem in problems)
    assert any("leaky_station_detail" in problem for problem in problems)
    # And nothing else: the project's own views stay clean beside them.
    assert all("leaky_" in problem for problem in problems), problems


@pytest.mark.django_db
@pytest.mark.urls("changning_aid.tests.leaky_urls")
def test_self_check_an_undeclared_public_view_is_caught():
    assert undeclared_public_views() == ["leaky_public_names"]


AUTOCOMPLETE_TERMS = ("街道", "居委", "服务", "站", "")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bureau", "manager_a", "advisor_a"])
def test_admin_autocompletes_offer_nothing_of_another_area(client, who):
    """Every autocomplete field of every model admin, searched with broad terms."""
    world = build_world()
    user = world[who]
    client.force_login(user)
    words = foreign_words(user)
    asked = 0
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            for term in AUTOCOMPLETE_TERMS:
                response = client.get(
                    "/admin/autocomplete/",
                    {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field_name,
                        "term": term,
                    },
                )
                asked += 1
                assert response.status_code in (200, 403, 404), response.status_code
                body = response.content.decode("unicode_escape")
                leaked = sorted(word for word in words if word in body)
                assert leaked == [], f"{who} saw {leaked} in autocomplete {model} {field_name}"
    assert asked > 0


@pytest.mark.django_db
def test_visible_to_cuts_each_model_to_the_users_area():
    world = build_world()
    a, b = world["street_a"], world["street_b"]
    manager_a = world["manager_a"]
    assert set(Street.objects.visible_to(manager_a)) == {a}
    assert set(Station.objects.visible_to(manager_a).values_list("street", flat=True)) == {a.pk}
    assert not Committee.objects.visible_to(manager_a).filter(street=b).exists()

    advisor_a = world["advisor_a"]
    point = committee_point(world["committees_a"][0])
    assert list(Station.objects.visible_to(advisor_a)) == [point]
    assert list(Committee.objects.visible_to(advisor_a)) == [world["committees_a"][0]]

    bureau = world["bureau"]
    assert set(Street.objects.visible_to(bureau)) == {a, b}
    assert not Station.objects.visible_to(bureau).filter(district=world["other_district"]).exists()
    # Counts and aggregates come from the same scoped rows.
    assert Station.objects.visible_to(manager_a).count() == 1 + 2
    assert Station.objects.visible_to(bureau).count() == 1 + 2 + 3

    assert Station.objects.visible_to(world["sysadmin"]).count() == Station.objects.count()


@pytest.mark.django_db
def test_deactivated_and_anonymous_users_see_nothing():
    from django.contrib.auth.models import AnonymousUser

    world = build_world()
    manager = world["manager_a"]
    manager.is_active = False
    manager.save()
    assert not Station.objects.visible_to(manager).exists()
    assert not Station.objects.visible_to(AnonymousUser()).exists()
    audit = make_user("auditor_t", Role.AUDIT_ADMIN)
    assert not Station.objects.visible_to(audit).exists()
