"""`python -m benchmarks.run [--scale smoke|changning|shanghai] [--only PART] [--rebuild]
[--update-readme]`

Runs the benchmarks against a PostgreSQL database of their own, on the server DATABASE_URL
names: `changning_aid_bench_<scale>` (the prefix from BENCH_DATABASE), dropped and created
by `benchmarks.data` in a child process, migrated, and filled with the scale's data set,
which later runs reuse (`--rebuild` builds it again). The database named by DATABASE_URL
itself is never touched. The benchmark's processes run with DEBUG off (as in production:
no query log) and with encryption keys of their own, fixed so that a reused data set
stays readable; they encrypt and hash exactly as production keys would.

The parts (`PARTS`): `lead_matching` and the modules of `PART_MODULES`; each gives a
`benchmarks.Section`. Prints their tables and
writes `benchmarks/results/latest.json` and `benchmarks/results/<scale>.json`:
`{"date", "machine", "scale", "pages": {NAME: {"role", "p50_ms", "p95_ms", "queries"}},
"jobs": {NAME: {"seconds", "peak_mb"}}}` (`benchmarks/__init__.py` says how jobs are
measured). A page whose query count differs from another scale's results file, or a job
whose result is wrong, fails the run (exit status 1); the times are printed against their
targets, not judged by the exit status. `--update-readme` writes the tables into README.md.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
RESULTS_FILE = RESULTS_DIR / "latest.json"
DEFAULT_DATABASE = "changning_aid_bench"
# The parts of the benchmark, in the order they run: each module's `run()` gives a `Section`.
# lead_matching leaves its leads behind, so that parts after it find leads to show.
PART_MODULES = {
    "pages": "benchmarks.pages",
    "compliance": "benchmarks.compliance_jobs",
    "io": "benchmarks.io_jobs",
}
PARTS = ("lead_matching", *PART_MODULES)
# Repeats below the full scale, so that `make bench BENCH_SCALE=changning` stays within five
# minutes: the import of 20,000 rows is the same job at every scale.
SMALL_SCALE_OPTIONS = {"io": {"repeat": 1}}
README_FILE = ROOT / "README.md"
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")
OUTCOME_LABELS = (
    ("matched", "在册"),
    ("new_lead", "新线索"),
    ("merged", "并入"),
    ("duplicate", "重复"),
    ("invalid", "无效"),
    ("unplaceable", "无法定位"),
)


def is_postgres(url):
    return urlsplit(url or "").scheme in POSTGRES_SCHEMES


def bench_database_url(url, scale):
    """DATABASE_URL with the benchmark's own database of `scale` in place of its database."""
    name = f"{os.environ.get('BENCH_DATABASE') or DEFAULT_DATABASE}_{scale}"
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _bench_key(label, size):
    return base64.b64encode(hashlib.sha256(b"changning_aid benchmark " + label).digest()[:size])


def bench_environment(url, scale):
    """The environment of the benchmark's processes (see the module's docstring)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=bench_database_url(url, scale),
        DJANGO_SETTINGS_MODULE="changning_aid.settings",
        DEBUG="off",
        SECRET_KEY=env.get("SECRET_KEY") or "benchmark-only-secret-key-never-used-elsewhere",
        # Made-up people only: keys that are not secret, the same on every run.
        FIELD_ENCRYPTION_KEYS="bench:" + _bench_key(b"encryption", 16).decode(),
        FIELD_HASH_KEY=_bench_key(b"hash", 32).decode(),
        PYTHONUNBUFFERED="1",
        # The pages are served as in production: static files from `collectstatic`'s copies
        # (the hashed names of the manifest), collected here before the pages are measured.
        STATIC_ROOT=str(Path(tempfile.gettempdir()) / "changning_aid_bench_static"),
    )
    return env


def machine():
    """What the figures were measured on."""
    from django.db import connection

    from benchmarks import host_hardware, memory_method

    info = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "database": f"{connection.display_name} "
        + ".".join(str(part) for part in connection.get_database_version()),
        "memory_measure": memory_method(),
    }
    info.update(host_hardware())
    return info


def results_document(scale, jobs, pages=None, date=None):
    return {
        "date": (date or datetime.datetime.now().astimezone()).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": scale,
        "pages": dict(pages or {}),
        "jobs": dict(jobs),
    }


def write_results(document, path=RESULTS_FILE):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def _cell(text, width, left=False):
    padding = " " * max(width - _width(text), 0)
    return f"{text}{padding}" if left else f"{padding}{text}"


def _cpu(measurement):
    database = measurement.db_cpu_seconds
    return f"{measurement.cpu_seconds:.1f}/" + ("-" if database is None else f"{database:.1f}")


def lead_matching_table(results):
    """The lead-matching steps as lines of a table (Chinese headers, aligned)."""
    from benchmarks.lead_matching import NAME

    headers = [
        "作业",
        "行数",
        "文件MB",
        "秒",
        "CPU秒(应用/库)",
        "峰值MB",
        *(label for _key, label in OUTCOME_LABELS),
        "核对",
    ]
    rows = []
    for result in results:
        rows.append(
            [
                f"{NAME}.{result.step}.upload",
                result.rows,
                f"{result.file_mb:.1f}",
                f"{result.upload.seconds:.1f}",
                _cpu(result.upload),
                f"{result.upload.peak_mb:.0f}",
                *([""] * len(OUTCOME_LABELS)),
                "",
            ]
        )
        rows.append(
            [
                f"{NAME}.{result.step}",
                result.rows,
                "",
                f"{result.process.seconds:.1f}",
                _cpu(result.process),
                f"{result.process.peak_mb:.0f}",
                *(result.counts[key] for key, _label in OUTCOME_LABELS),
                "与预设一致" if result.as_planted else f"预设 {result.expected}",
            ]
        )
    widths = [max(_width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [_cell(row[0], widths[0], left=True)]
        cells += [_cell(value, widths[i]) for i, value in enumerate(row[1:-1], start=1)]
        cells.append(_cell(row[-1], widths[-1], left=True))
        lines.append("  ".join(cells).rstrip())
    return lines


def _refuse(message):
    sys.stderr.write(message + "\n")
    return 2


def main(argv=None):
    from benchmarks.data import DEFAULT_SCALE, SCALES

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="运行基准测试(需要 PostgreSQL:DATABASE_URL=postgres://...)。",
    )
    parser.add_argument(
        "--scale",
        default=os.environ.get("BENCH_SCALE") or DEFAULT_SCALE,
        help=f"数据规模:{'、'.join(SCALES)}(默认 {DEFAULT_SCALE},或环境变量 BENCH_SCALE)",
    )
    parser.add_argument("--only", action="append", choices=PARTS, help="只运行这些部分(可重复)。")
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="把本次结果写入 README.md 的结果表(只在运行全部部分时)。",
    )
    parser.add_argument("--rebuild", action="store_true", help="删除并重新生成基准数据集。")
    args = parser.parse_args(argv)
    if args.scale not in SCALES:
        return _refuse(f"未知的规模 {args.scale!r}:可选 {'、'.join(SCALES)}。")
    url = os.environ.get("DATABASE_URL", "")
    if not is_postgres(url):
        return _refuse(
            "基准测试需要 PostgreSQL:请设置 DATABASE_URL=postgres://用户@主机:5432/库名。"
            f"基准测试会在该服务器上另建数据库 {DEFAULT_DATABASE}_<规模>,不改动 DATABASE_URL "
            "指定的数据库。"
        )
    scale = SCALES[args.scale]
    env = bench_environment(url, scale.name)
    print(f"基准测试规模:{scale.name}({scale.description})", flush=True)
    command = [sys.executable, "-m", "benchmarks.data", "--scale", scale.name]
    built = subprocess.run([*command, *(["--rebuild"] if args.rebuild else [])], env=env, cwd=ROOT)
    if built.returncode:
        return built.returncode

    # The data set is ready: measure in this process, which has built nothing.
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from benchmarks import data

    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = data.read_manifest(data.database_name(env["DATABASE_URL"]))
    selected = args.only or PARTS
    sections = {}
    for part in PARTS:
        if part in selected:
            print(f"正在运行:{part} …", flush=True)
            sections[part] = run_part(part, scale, manifest)
    pages = {}
    jobs = {}
    failures = []
    for section in sections.values():
        pages.update(section.pages)
        jobs.update(section.jobs)
        failures += section.failures
    if "pages" in sections:
        from benchmarks.pages import compare_queries

        for other in other_scale_results(scale.name):
            failures += compare_queries(pages, other)
    document = results_document(scale.name, jobs, pages)
    path = write_results(document)
    write_results(document, RESULTS_DIR / f"{scale.name}.json")
    for part, section in sections.items():
        print(f"\n== {part} ==")
        print("\n".join(section.lines))
    print(f"\n机器负载(1分钟平均):{os.getloadavg()[0]:.1f},CPU {os.cpu_count()} 个。")
    print(f"峰值内存的测量方式:{document['machine']['memory_measure']}。结果已写入 {path}。")
    if args.update_readme and not args.only:
        update_readme(document)
        print(f"已更新 {README_FILE.name} 中的结果表。")
    if failures:
        print("\n未通过:\n" + "\n".join(f"- {failure}" for failure in failures))
        return 1
    return 0


def run_part(part, scale, manifest):
    """The `Section` of one part of the benchmark."""
    import importlib

    if part == "lead_matching":
        section = lead_matching_section(scale, manifest)
        # The leads it made are new to the planner: autovacuum would analyze them before
        # anyone read them through a page; without it the leads list is planned for 1 row.
        from benchmarks.data import analyze

        analyze()
        return section
    options = SMALL_SCALE_OPTIONS.get(part, {}) if scale.name != "shanghai" else {}
    return importlib.import_module(PART_MODULES[part]).run(**options)


def lead_matching_section(scale, manifest):
    from benchmarks import Section, lead_matching

    lead_matching.reset()
    results = lead_matching.run(lead_matching.inputs_from_manifest(manifest))
    lines = lead_matching_table(results)
    first = next(r for r in results if r.step == "first_list")
    target = (
        f"目标:{lead_matching.TARGET_JOB} 在 shanghai 规模(10万行对30万人)少于 "
        f"{lead_matching.TARGET_SECONDS} 秒;本次({scale.name})实测 "
        f"{first.process.seconds:.1f} 秒"
    )
    if scale.name == "shanghai":
        met = first.process.seconds < lead_matching.TARGET_SECONDS
        target += ",达到。" if met else ",未达到。"
    else:
        target += "(目标只在 shanghai 规模下衡量)。"
    lines.append(target)
    failures = [
        f"{lead_matching.NAME}.{result.step}:结果与预设不一致({result.counts} ≠ {result.expected})"
        for result in results
        if not result.as_planted
    ]
    return Section(jobs=lead_matching.jobs(results), lines=lines, failures=failures)


def other_scale_results(scale_name):
    """The results documents of the other scales measured on this checkout."""
    documents = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        if path.stem in (scale_name, RESULTS_FILE.stem):
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if document.get("scale") == path.stem and document.get("pages"):
            documents.append(document)
    return documents


def markdown_table(document):
    """The results as Markdown tables (the README's block)."""
    info = document["machine"]
    lines = [
        f"测量于 {document['date']},规模 `{document['scale']}`;机器:{info.get('cpu')},"
        f"{info.get('cpus')} 核,内存 {info.get('memory_gb', '?')} GB,{info.get('database')},"
        f"Python {info.get('python')}。",
        "",
    ]
    if document["pages"]:
        lines += [
            "| 页面 | 角色 | 中位数 ms | P95 ms | 查询数 |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for name, page in document["pages"].items():
            lines.append(
                f"| `{name}` | {page['role']} | {page['p50_ms']} | {page['p95_ms']} | "
                f"{page['queries']} |"
            )
        lines.append("")
    if document["jobs"]:
        lines += ["| 作业 | 秒 | 峰值 MB |", "| --- | ---: | ---: |"]
        for name, job in document["jobs"].items():
            lines.append(f"| `{name}` | {job['seconds']} | {job['peak_mb']} |")
    return "\n".join(lines)


def update_readme(document, path=README_FILE):
    """Replace the README's block between the bench markers with `document`'s tables."""
    text = path.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise ValueError(f"{path.name} 中没有 {README_START} … {README_END} 标记")
    before, rest = text.split(README_START, 1)
    _old, after = rest.split(README_END, 1)
    block = f"{README_START}\n{markdown_table(document)}\n{README_END}"
    path.write_text(before + block + after, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
