"""The benchmarks in miniature, in the test database: so that `make bench` cannot rot.

The same builders and the same job as `python -m benchmarks.run`, on a few hundred rows:
every outcome of every step is the count the builder planted.
"""

import json

import pytest

from benchmarks import data, lead_matching
from benchmarks import run as bench_run
from cases.models import Recipient
from changning_aid.sensitive.idnumbers import id_number_problem
from stations.models import Committee

pytestmark = pytest.mark.django_db

SMOKE = data.SCALES["smoke"]


@pytest.fixture
def dataset():
    return data.build(SMOKE)


def test_the_builders_plant_the_smoke_data_set(dataset):
    assert Committee.objects.count() == len(data.division_rows(SMOKE)) > 10
    assert Recipient.objects.count() == SMOKE.recipients == 400
    numbers = [person.id_number for person in dataset.plan.people]
    assert len(set(numbers)) == 400
    assert [n for n in numbers if id_number_problem(n)] == []
    # Stored as the application stores them: encrypted, found by their hash.
    person = dataset.plan.people[7]
    found = Recipient.objects.get(id_number__matches=person.id_number)
    assert (found.file_number, found.name, found.address) == (
        person.file_number,
        person.name,
        person.address,
    )
    assert found.id_number.reveal() == person.id_number
    # Planning is deterministic: the same people and lists again.
    again = data.plan_people(SMOKE)
    assert [p.id_number for p in again.people] == numbers
    assert data.plan_lists(again)[1].rows == dataset.lists[1].rows


def test_the_lead_matching_job_reports_what_was_planted(dataset):
    first, second, first_again = dataset.lists
    assert first.expected == {
        "matched": 120,
        "new_lead": 150,
        "merged": 0,
        "duplicate": 0,
        "invalid": 15,
        "unplaceable": 15,
    }
    assert second.expected["merged"] > 0
    nothing = dict.fromkeys(data.OUTCOMES, 0)
    assert first_again.expected == {**nothing, "duplicate": 285, "invalid": 15}

    results = lead_matching.run(lead_matching.inputs_from_lists(dataset.lists))

    assert [r.step for r in results] == [
        "first_list",
        "second_list",
        "first_list_again",
        "first_list_again_xlsx",
    ]
    for result in results:
        assert result.rows == 300
        assert result.counts == result.expected, result.step
    assert results[0].counts == first.expected
    assert results[1].counts == second.expected
    assert results[3].counts == first_again.expected

    jobs = lead_matching.jobs(results)
    document = bench_run.results_document("smoke", jobs)
    assert set(document) == {"date", "machine", "scale", "pages", "jobs"}
    assert document["scale"] == "smoke"
    assert document["pages"] == {}
    assert "lead_matching.first_list" in document["jobs"]
    assert len(document["jobs"]) == 8
    for figures in document["jobs"].values():
        assert set(figures) == {"seconds", "peak_mb"}
        assert figures["seconds"] > 0
        assert figures["peak_mb"] >= 0
    assert json.loads(json.dumps(document)) == document
    lines = bench_run.lead_matching_table(results)
    assert len(lines) == 1 + 2 * len(results)
    assert all("与预设一致" in line for line in lines[2::2])


def test_the_runner_refuses_a_database_other_than_postgresql(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///db.sqlite3")
    assert bench_run.main(["--scale", "smoke"]) == 2
    assert "需要 PostgreSQL" in capsys.readouterr().err
    monkeypatch.delenv("DATABASE_URL")
    assert bench_run.main([]) == 2


def test_the_benchmark_database_is_its_own_on_the_same_server(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE", raising=False)
    url = bench_run.bench_database_url("postgres://u:p@db.example:5433/changning_aid?x=1", "smoke")
    assert url == "postgres://u:p@db.example:5433/changning_aid_bench_smoke?x=1"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rerun_starts_from_no_leads_and_no_lead_events():
    from audit.tracking import tracking_for
    from cases.lead_models import Lead, LeadFact, LeadSource, LeadUpload

    dataset = data.build(SMOKE)
    inputs = lead_matching.inputs_from_lists(dataset.lists, xlsx=False)
    first_step = lead_matching.STEPS[:1]
    (before,) = lead_matching.run(inputs, steps=first_step)
    lead_events = tracking_for(Lead).event_model.objects
    assert lead_events.count() == Lead.objects.count() == 150 + 15  # new and unplaceable

    lead_matching.reset()

    for model in (Lead, LeadFact, LeadUpload, LeadSource):
        assert not model.objects.exists()
        assert not tracking_for(model).event_model.objects.exists()
    assert Recipient.objects.count() == 400  # the data set stays
    (again,) = lead_matching.run(inputs, steps=first_step)
    assert again.counts == before.counts == before.expected
