"""`python -m benchmarks.run [--scale smoke|changning|shanghai] [--only lead_matching] [--rebuild]`

Runs the benchmarks against a PostgreSQL database of their own, on the server DATABASE_URL
names: `changning_aid_bench_<scale>` (the prefix from BENCH_DATABASE), dropped and created
by `benchmarks.data` in a child process, migrated, and filled with the scale's data set,
which later runs reuse (`--rebuild` builds it again). The database named by DATABASE_URL
itself is never touched. The benchmark's processes run with DEBUG off (as in production:
no query log) and with encryption keys of their own, fixed so that a reused data set
stays readable; they encrypt and hash exactly as production keys would.

Prints a table and writes `benchmarks/results/latest.json`:
`{"date", "machine", "scale", "pages": {}, "jobs": {NAME: {"seconds", "peak_mb"}}}`
(`benchmarks/__init__.py` says how the two are measured). Nothing here judges the times.
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
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest.json"
DEFAULT_DATABASE = "changning_aid_bench"
JOB_NAMES = ("lead_matching",)
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
    )
    return env


def machine():
    """What the figures were measured on."""
    from django.db import connection

    from benchmarks import memory_method

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
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            info["cpu"] = next(
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            )
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            total = next(line for line in meminfo if line.startswith("MemTotal"))
            info["memory_gb"] = round(int(total.split()[1]) / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
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
    parser.add_argument(
        "--only", action="append", choices=JOB_NAMES, help="只运行这些基准(可重复)。"
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
    from benchmarks import data, lead_matching

    manifest = data.read_manifest(data.database_name(env["DATABASE_URL"]))
    jobs = {}
    lines = []
    selected = args.only or JOB_NAMES
    if "lead_matching" in selected:
        lead_matching.reset()
        results = lead_matching.run(lead_matching.inputs_from_manifest(manifest))
        jobs.update(lead_matching.jobs(results))
        lines += lead_matching_table(results)
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
        lines.append(f"机器负载(1分钟平均):{os.getloadavg()[0]:.1f},CPU {os.cpu_count()} 个。")
    document = results_document(scale.name, jobs)
    path = write_results(document)
    print("\n".join(lines))
    print(f"峰值内存的测量方式:{document['machine']['memory_measure']}。结果已写入 {path}。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
