"""Hostile input to every form of the project, found by enumeration (property-based).

The test logs in as each role, opens every page of the project (the URL patterns
enumerated by the scope-leak test, pointed at the user's own rows), and collects every
form those pages show. Hypothesis then sends random and hostile values (very long
strings, control characters, SQL and HTML fragments, wrong types, far dates, odd files)
to the forms' fields. Whatever comes in, the answer is never a server error; a refused
form writes nothing; and what the user typed is never echoed unescaped. New forms of
later issues are covered as soon as a page shows them.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisors.models import Advisor, Training
from changning_aid.tests.test_scope_leaks import (
    NEUTRAL_URL_NAMES,
    build_world,
    fill_parameters,
    is_public,
    iter_patterns,
    url_from_route,
)
from stations.models import Committee, District, Station, Street

# Tables whose writes are bookkeeping, not the data a refused form must leave alone.
BOOKKEEPING_TABLES = ("django_session", "axes_", "audit_", "event", "django_admin_log")

# Forms that end the session or belong to Django's own admin login rather than data.
SKIPPED_ACTIONS = ("/accounts/logout/", "/admin/logout/")

HOSTILE_STRINGS = [
    "' OR 1=1 --",
    "'; DROP TABLE stations_station; --",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }}{% debug %}",
    "\x00",
    "abc\x00def",
    "\r\n\t",
    "\u202e\u200b\ufeff",
    "😀" * 40,
    "../../etc/passwd",
    "=cmd|' /C calc'!A0",
    "+1",
    "-1",
    "1e309",
    "NaN",
    "-0",
    "9" * 40,
    "0001-01-01",
    "9999-12-31",
    "99999-99-99",
    "2026-02-30",
    "on",
    "true",
    "[]",
    "{}",
    " ",
    "",
]

DIVISION_HEADER = (
    b"district_code,district_name,street_code,street_name,committee_code,committee_name\n"
)

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=40),
    st.builds(
        lambda piece, times: piece * times, st.text(min_size=1, max_size=8), st.integers(100, 800)
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
)


@dataclass
class FormField:
    name: str
    kind: str  # input type, "select" or "textarea"
    options: list = field(default_factory=list)


@dataclass
class PageForm:
    user_key: str
    page: str
    action: str
    method: str
    fields: list

    def __repr__(self):
        return f"<{self.method} {self.action} as {self.user_key}: {[f.name for f in self.fields]}>"


class FormCollector(HTMLParser):
    """Collects the forms of a page with their fields and the options of their selects."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": [],
            }
        elif self._form is None:
            return
        elif tag in ("input", "textarea") and attrs.get("name"):
            kind = "textarea" if tag == "textarea" else (attrs.get("type") or "text").lower()
            if attrs["name"] == "csrfmiddlewaretoken" or kind in ("submit", "button"):
                return
            if kind == "radio":
                # A group of radio buttons is one field with the buttons' values as options.
                group = next((f for f in self._form["fields"] if f.name == attrs["name"]), None)
                if group is None:
                    group = FormField(attrs["name"], "select")
                    self._form["fields"].append(group)
                group.options.append(attrs.get("value", "on"))
                return
            self._form["fields"].append(FormField(attrs["name"], kind))
        elif tag == "select" and attrs.get("name"):
            self._select = FormField(attrs["name"], "select")
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def own_objects(user):
    """For each scoped model, a row the user may see: pages are opened on the user's own data."""
    objects = {}
    for model in (District, Street, Committee, Station, Advisor, Training, type(user)):
        objects[model] = model._default_manager.visible_to(user).order_by("pk").first()
    return objects


def discover_forms(client, world):
    forms = []
    for user_key in ("sysadmin", "bureau", "manager_a", "advisor_a", None):
        client.logout()
        if user_key:
            client.force_login(world[user_key])
        own = own_objects(world[user_key]) if user_key else {}
        for route, name, callback in iter_patterns():
            if name in NEUTRAL_URL_NAMES or route.startswith("admin/"):
                continue  # Django's admin forms are Django's; our own forms are the target
            if "<" in route and (is_public(name, callback) or not user_key):
                continue  # parameters are filled with the user's own rows
            values = fill_parameters(route, name, own) if user_key else None
            if values is not None and None in values.values():
                continue
            page = url_from_route(route, values)
            response = client.get(page)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            collector = FormCollector()
            collector.feed(response.content.decode("utf-8", errors="replace"))
            for found in collector.forms:
                action = urlsplit(urljoin(page, found["action"] or page)).path
                if action.startswith(SKIPPED_ACTIONS) or not found["fields"]:
                    continue
                forms.append(PageForm(user_key, page, action, found["method"], found["fields"]))
    return forms


def field_value(data, form_field):
    if form_field.kind == "file":
        name = data.draw(
            st.sampled_from(
                ["divisions.csv", "divisions.xlsx", "x.exe", "a" * 300 + ".csv", "无.csv"]
            )
        )
        content = data.draw(
            st.one_of(
                st.binary(max_size=300),
                st.sampled_from(
                    [
                        b"district_code,district_name\n" + b"9" * 200,
                        DIVISION_HEADER
                        + "310105,长宁区,310105001,<script>,3101050,'; --\n".encode(),
                        b"PK\x03\x04garbage",
                    ]
                ),
            )
        )
        return SimpleUploadedFile(name, content)
    if form_field.kind == "select" and form_field.options:
        return data.draw(st.one_of(st.sampled_from(form_field.options), hostile_text))
    if form_field.kind == "checkbox":
        return data.draw(st.sampled_from(["on", "", "off", "\x00", "1" * 100]))
    return data.draw(hostile_text)


class Rollback(Exception):
    """Undo one example's writes so that every example starts from the same data."""


def project_writes(queries):
    writes = []
    for query in queries:
        sql = query["sql"].lstrip().upper()
        if not sql.startswith(("INSERT", "UPDATE", "DELETE")):
            continue
        table = re.search(r'(?:INTO|UPDATE|FROM)\s+"?([A-Z0-9_]+)', sql)
        name = table.group(1).lower() if table else ""
        if not any(marker in name for marker in BOOKKEEPING_TABLES):
            writes.append(query["sql"][:200])
    return writes


@pytest.mark.django_db(transaction=False)
def test_hostile_input_to_every_form_never_breaks_and_refusals_write_nothing(client):
    world = build_world()
    forms = discover_forms(client, world)
    actions = {form.action for form in forms}
    # The forms of the foundation: station editing, division upload, password change, login.
    assert len(actions) >= 4, forms

    @settings(
        max_examples=500,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def post_hostile(data):
        form = data.draw(st.sampled_from(forms))
        values = {f.name: field_value(data, f) for f in form.fields}
        outcome = {}
        try:
            with transaction.atomic():
                client.logout()
                if form.user_key:
                    client.force_login(world[form.user_key])
                with CaptureQueriesContext(connection) as queries:
                    if form.method == "post":
                        response = client.post(form.action, values)
                    else:
                        response = client.get(form.action, values)
                outcome["response"] = response
                outcome["writes"] = project_writes(queries.captured_queries)
                raise Rollback
        except Rollback:
            pass
        response = outcome["response"]
        assert response.status_code < 500, (form, values)
        refused = response.status_code != 302
        if refused or form.method == "get":
            assert outcome["writes"] == [], (form, values, outcome["writes"])
        body = response.content.decode("utf-8", errors="replace")
        for value in values.values():
            if isinstance(value, str) and "<script>" in value:
                assert value not in body, ("unescaped echo", form, value)

    post_hostile()
