"""Locust's figures as the load and fault tests report them, and the README's blocks.

Locust writes its final statistics with `--json-file PREFIX` into `PREFIX.json`, after the
users have stopped (the CSV files of `--csv` are written once a second while the run goes
on and miss the requests of the last moments, those the users finish during
`--stop-timeout`). Each entry is one request name (`<role>:<action>`,
`benchmarks.load.workload`) with its count, failures, total and largest time, and the
histogram of its response times in milliseconds (rounded by locust: above 100 ms to 10 ms,
above 1 s to 100 ms). `read_stats` turns them into `Row`s and adds two rows merged from the
histograms: every request (`合计`), and every request but the logins (`合计(不含登录)`: a
login checks a password hashed with a million rounds of PBKDF2, far the slowest request,
and 50 users log in within the first five seconds). Percentiles follow locust's own rule
(`percentile`), so the figures are the ones locust prints.
"""

import datetime
import json
import math
import os
import platform
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import host_hardware

README_FILE = Path(__file__).resolve().parents[2] / "README.md"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
TOTAL = "合计"
TOTAL_BUT_LOGINS = "合计(不含登录)"
LOGIN_ACTIONS = ("login", "login_page")


@dataclass(frozen=True)
class Row:
    """One request name's figures (times in milliseconds), or one of the merged rows."""

    method: str
    name: str
    requests: int
    failures: int
    rps: float
    average_ms: float
    p50_ms: int | None
    p95_ms: int | None
    p99_ms: int | None
    max_ms: float

    @property
    def is_total(self):
        return self.name in (TOTAL, TOTAL_BUT_LOGINS)

    def as_json(self):
        return {key: value for key, value in asdict(self).items() if key != "name"}


def percentile(histogram, share):
    """The response time `share` (0.95) of the requests took at most, by locust's rule
    (`locust.stats.calculate_response_time_percentile`); None without requests."""
    count = sum(histogram.values())
    if not count:
        return None
    wanted = int(count * share)
    seen = 0
    for time_ms in sorted(histogram, reverse=True):
        seen += histogram[time_ms]
        if count - seen <= wanted:
            return time_ms
    return 0


def _row(method, name, entries, seconds):
    """The figures of `entries` merged; requests per second over the run's `seconds`."""
    histogram = Counter()
    for entry in entries:
        histogram.update({int(float(k)): v for k, v in entry["response_times"].items()})
    requests = sum(entry["num_requests"] for entry in entries)
    return Row(
        method=method,
        name=name,
        requests=requests,
        failures=sum(entry["num_failures"] for entry in entries),
        rps=round(requests / seconds, 2) if seconds > 0 else 0.0,
        average_ms=round(sum(entry["total_response_time"] for entry in entries) / requests, 1)
        if requests
        else 0.0,
        p50_ms=percentile(histogram, 0.50),
        p95_ms=percentile(histogram, 0.95),
        p99_ms=percentile(histogram, 0.99),
        max_ms=round(max((entry["max_response_time"] for entry in entries), default=0), 1),
    )


def is_login(name):
    return name.rsplit(":", 1)[-1] in LOGIN_ACTIONS


def read_stats(path):
    """The rows of locust's `--json-file`: one per request name (by name), then the merged
    rows `合计(不含登录)` and `合计`; requests per second over the whole run."""
    with open(path, encoding="utf-8") as stats_file:
        entries = json.load(stats_file)
    # The run's span: from its first request's start to its last request.
    starts = [entry["start_time"] for entry in entries if entry["num_requests"]]
    ends = [entry["last_request_timestamp"] or 0 for entry in entries if entry["num_requests"]]
    seconds = max(ends) - min(starts) if starts else 0
    rows = [
        _row(entry["method"], entry["name"], [entry], seconds)
        for entry in sorted(entries, key=lambda e: (e["name"], e["method"]))
    ]
    pages = [entry for entry in entries if not is_login(entry["name"])]
    rows.append(_row("", TOTAL_BUT_LOGINS, pages, seconds))
    rows.append(_row("", TOTAL, entries, seconds))
    return rows


def total(rows, name=TOTAL):
    """The merged row `name` (every request, or every request but the logins)."""
    return next(row for row in rows if row.name == name)


def settled(requests):
    """The figures of the run once every user has logged in: the requests (logins aside) that
    started after the last login ended, from the locustfile's LOAD_EVENTS lines, with exact
    times (nearest-rank percentiles, milliseconds not rounded). None without requests.

    The logins come in a burst (50 users within five seconds at `--spawn-rate 10`), each a
    million rounds of PBKDF2, and every request of those seconds queues behind them: the
    whole run's percentiles are mostly that burst; these are the working day's."""
    if not requests:
        return None
    begin = min(request["start"] for request in requests)
    after = max((r["end"] for r in requests if is_login(r["name"])), default=begin)
    kept = [r for r in requests if r["start"] >= after and not is_login(r["name"])]
    times = sorted((r["end"] - r["start"]) * 1000 for r in kept)

    def rank(share):
        return round(times[max(math.ceil(share * len(times)) - 1, 0)]) if times else None

    return {
        "from_seconds": round(after - begin, 1),
        "requests": len(kept),
        "failures": sum(1 for r in kept if r["failed"]),
        "p50_ms": rank(0.50),
        "p95_ms": rank(0.95),
        "p99_ms": rank(0.99),
        "max_ms": round(times[-1]) if times else None,
    }


def failures_of(requests):
    """The failed requests of a run (the locustfile's LOAD_EVENTS lines), grouped:
    [{"method", "name", "error", "count"}], the most frequent first."""
    counts = Counter(
        (request["method"], request["name"], request["error"])
        for request in requests
        if request["failed"]
    )
    return [
        {"method": method, "name": name, "error": error, "count": count}
        for (method, name, error), count in counts.most_common()
    ]


def read_lines(path):
    """The JSON lines of `path` (none when it does not exist)."""
    if not Path(path).exists():
        return []
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def machine(database_version=""):
    """What the figures were measured on: `nproc`, the CPU model, memory, PostgreSQL."""
    info = {
        "hostname": platform.node(),
        "cpus": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "database": database_version,
    }
    info.update(host_hardware())
    return info


def now():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def requests_table(rows):
    """The rows as a Markdown table (the README's and the console's)."""
    lines = [
        "| 请求 | 次数 | 失败 | 每秒 | 平均 ms | P50 ms | P95 ms | P99 ms | 最长 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        name = f"**{row.name}**" if row.is_total else f"`{row.method} {row.name}`"
        cells = [row.requests, row.failures, row.rps, row.average_ms]
        cells += [row.p50_ms, row.p95_ms, row.p99_ms, row.max_ms]
        lines.append(
            f"| {name} | " + " | ".join("-" if c is None else str(c) for c in cells) + " |"
        )
    return lines


def machine_line(document):
    info = document["machine"]
    return (
        f"测量于 {document['date']};机器:{info.get('cpu')},`nproc` {info.get('cpus')},"
        f"内存 {info.get('memory_gb', '?')} GB,{info.get('database')},Python {info.get('python')}"
        f",locust {document.get('locust', '?')}。"
    )


def report(name, document, problems, *, directory, summary, readme, update, passed):
    """The end of a run: `summary` printed, the results file `name` written, the README block
    `name` set to `readme` (with `update`), the problems listed. The exit status: 1 with
    problems, else 0 (and `passed` printed)."""
    path = write_results(document, name)
    print("\n" + summary)
    print(f"\n结果已写入 {path};本次运行的文件在 {directory}。")
    if update:
        update_readme(name, readme)
        print(f"已更新 README.md 中的{README_LABELS[name]}结果。")
    if problems:
        print("\n未通过:\n" + "\n".join(f"- {problem}" for problem in problems))
        return 1
    print("\n" + passed)
    return 0


README_LABELS = {"load": "负载测试", "fault": "故障测试"}


def write_results(document, name):
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def update_readme(block, text, path=README_FILE):
    """Replace the README's block between `<!-- {block}:start -->` and `<!-- {block}:end -->`
    with `text`; the rest of the file stays as it is."""
    start, end = f"<!-- {block}:start -->", f"<!-- {block}:end -->"
    content = path.read_text(encoding="utf-8")
    if start not in content or end not in content:
        raise ValueError(f"{path.name} 中没有 {start} … {end} 标记")
    before, rest = content.split(start, 1)
    _old, after = rest.split(end, 1)
    path.write_text(f"{before}{start}\n{text}\n{end}{after}", encoding="utf-8")
