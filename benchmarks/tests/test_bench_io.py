"""The export and import jobs of the benchmark in miniature, in the test database (SQLite and
PostgreSQL): every job runs, its files hold every row, the import writes everyone (with
their audit events on PostgreSQL) and is taken back, a file with one bad row writes nobody."""

import pytest

from benchmarks import data, io_jobs
from benchmarks import run as bench_run
from cases.models import Recipient
from visits import summaries

pytestmark = pytest.mark.django_db

SMOKE = data.SCALES["smoke"]
IMPORT_ROWS = 150
BIG_ROWS = 300


@pytest.fixture
def dataset():
    return data.build(SMOKE)


def test_the_io_jobs_run_at_a_small_size(dataset):
    before = Recipient.objects.count()

    section = io_jobs.run(repeat=1, import_rows=IMPORT_ROWS, big_rows=BIG_ROWS)

    assert section.failures == []
    assert list(section.jobs) == [
        io_jobs.RECIPIENTS_BIG,
        io_jobs.DISTRICT_RECIPIENTS,
        io_jobs.STREET_NEEDS,
        io_jobs.IMPORT_PREVIEW,
        io_jobs.IMPORT,
        io_jobs.IMPORT_REFUSED,
    ]
    for figures in section.jobs.values():
        assert set(figures) == {"seconds", "peak_mb"}
        assert figures["seconds"] > 0 and figures["peak_mb"] >= 0
    # The people imported are taken back: the next run starts from the same register, and
    # the month summaries are those of the data set again.
    assert Recipient.objects.count() == before == SMOKE.recipients
    assert summaries.differences() == {"person_months": [], "committee_months": []}
    document = bench_run.results_document("smoke", section.jobs)
    assert document["jobs"] == section.jobs
    header, *rows = section.lines[: 1 + len(section.jobs)]
    assert header.split() == ["作业", "行数", "秒", "CPU秒(应用/库)", "峰值MB", "目标"]
    counts = {row.split()[0]: row.split()[1] for row in rows}
    assert counts[io_jobs.DISTRICT_RECIPIENTS] == f"{SMOKE.recipients:,}"
    assert counts[io_jobs.RECIPIENTS_BIG] == f"{BIG_ROWS:,}"
    assert counts[io_jobs.IMPORT] == f"{IMPORT_ROWS:,}"
    assert "峰值 ≤300 MB:达到" in next(r for r in rows if r.startswith(io_jobs.RECIPIENTS_BIG))


def test_the_new_people_are_valid_distinct_and_new(dataset):
    from changning_aid.sensitive.idnumbers import id_number_problem
    from stations.models import District

    district = District.objects.get(code=data.UPLOADER_DISTRICT)
    people = io_jobs.new_people(400, district)
    assert len(set(people.numbers)) == 400
    assert [n for n in people.numbers if id_number_problem(n)] == []
    planned = {person.id_number for person in dataset.plan.people}
    assert not planned & set(people.numbers)
    assert io_jobs.registered_ids(people.numbers) == []
    assert io_jobs.new_people(400, district).rows == people.rows  # deterministic
    bad = io_jobs.with_bad_last_row(people)
    assert id_number_problem(bad.rows[-1]["身份证号"])
    assert bad.rows[:-1] == people.rows[:-1]
