"""`python -m benchmarks.load.run`: the load test (`make load`).

50 simulated users (`mix`: 5 bureau staff, 10 street managers, 35 advisors) work for 60
seconds against the production server, `deploy/serve.sh` with `LOCAL=1` (what `make serve
LOCAL=1` runs: gunicorn, DEBUG off, the deployment check first), on PostgreSQL:

1. the database: `changning_aid_load` (the name from LOAD_DATABASE) on the server
   DATABASE_URL names, which itself is never touched. Made once, migrated and given the
   Changning demo (`seed_demo`, run with DEBUG on as it asks; `--small` for two streets),
   then reused; `--rebuild` makes it again. The demo is the data; nobody logs in with its
   published password (`setup` deactivates those logins);
2. the logins and the plan (`python -m benchmarks.load.setup`);
3. the server on a free port of 127.0.0.1, with the production defaults: gunicorn's
   workers (2 × CPUs + 1), `CONN_MAX_AGE`, the second factor for the bureau;
4. locust, headless: `-u 50 -r 10 -t 60s`, `--json-file` (and `--csv`); users finish the
   click they are on when the time is up (`--stop-timeout`), so that no visit is left
   half-told;
5. the figures (`stats`: per request name, in all, in all but the logins, and once every
   user has logged in) and the register against what the users were told (`checks`).

The test passes with no failed request and every visit as its user was told. Its files
(the plan, locust's statistics and log, every request and visit, the server's log) are kept in
`$TMPDIR/changning_aid_load/<run>/`; the figures go to `benchmarks/load/results/load.json`
and, with `--update-readme`, into README.md (between `<!-- load:start -->` and
`<!-- load:end -->`).

The processes of the test run with encryption keys of their own, fixed so that a reused
database stays readable: made-up people only.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.load import mix, server, stats

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
LOCUST = ROOT / ".venv-load" / "bin" / "locust"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
DEFAULT_DATABASE = "changning_aid_load"
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")
# What the database's comment says once it holds the demo (see `prepare_database`).
SEEDED_MARK = "changning_aid load test:"


def is_postgres(url):
    return urlsplit(url or "").scheme in POSTGRES_SCHEMES


def with_database(url, name):
    """`url` with the database `name` in place of its own."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _key(label, size):
    digest = hashlib.sha256(b"changning_aid load test " + label).digest()
    return base64.b64encode(digest[:size]).decode()


def environment(url, **extra):
    """The environment of the test's processes (the server's, the set-up's, the checks')."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="changning_aid.settings",
        FIELD_ENCRYPTION_KEYS="load:" + _key(b"encryption", 16),
        FIELD_HASH_KEY=_key(b"hash", 32),
        STATIC_ROOT=str(Path(tempfile.gettempdir()) / "changning_aid_load_static"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("DEBUG", None)
    env.update(extra)
    return env


def manage_env(url):
    """The set-up's and checks' processes: DEBUG off unless said, a throwaway SECRET_KEY."""
    return environment(
        url, SECRET_KEY=os.environ.get("SECRET_KEY") or "load-test-only-secret-key-not-used-else"
    )


def run_step(command, env, log=None, **kwargs):
    """Run `command` (echoed); CalledProcessError when it fails."""
    print("$ " + " ".join(str(part) for part in command), flush=True)
    return subprocess.run(
        [str(part) for part in command], env=env, cwd=ROOT, check=True, stdout=log, **kwargs
    )


def _comment(url):
    from benchmarks.data import _admin_connection, database_name

    connection = _admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [database_name(url)],
            )
            row = cursor.fetchone()
            return None if row is None else (row[0] or "")
    finally:
        connection.close()


def _mark_seeded(url, small):
    from psycopg2 import sql

    from benchmarks.data import _admin_connection, database_name

    mark = f"{SEEDED_MARK} seed_demo{' --small' if small else ''} {datetime.date.today()}"
    connection = _admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(database_name(url)), sql.Literal(mark)
                )
            )
    finally:
        connection.close()


def prepare_database(url, *, small=False, rebuild=False):
    """Make the database and give it the demo, unless it already holds it (`SEEDED_MARK`)."""
    from benchmarks.data import recreate_database

    comment = _comment(url) or ""
    seeded = comment.startswith(SEEDED_MARK) and ("--small" in comment) == small
    if seeded and not rebuild:
        print(f"沿用已有的数据库({comment})。", flush=True)
        return False
    print(f"正在建立数据库 {url.rsplit('/', 1)[-1]} 并生成演示数据…", flush=True)
    recreate_database(url)
    env = environment(url, DEBUG="on")
    run_step([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], env)
    run_step([PYTHON, "manage.py", "seed_demo", *(["--small"] if small else [])], env)
    _mark_seeded(url, small)
    return True


def database_version(url):
    from benchmarks.data import _admin_connection

    connection = _admin_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    finally:
        connection.close()


def locust_version():
    try:
        done = subprocess.run([LOCUST, "--version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return "?"
    words = (done.stdout or done.stderr).split()
    return words[1] if len(words) > 1 else "?"


def run_dir(kind):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.gettempdir()) / "changning_aid_load" / f"{kind}-{stamp}"
    path.mkdir(parents=True, exist_ok=True)
    return path, f"{kind}{stamp.replace('-', '')}"


def write_plan(url, directory):
    """The load's own users made in the database of `url` (`benchmarks.load.setup`) and
    their plan written to `directory`/plan.json, which locust reads: its path."""
    plan = directory / "plan.json"
    run_step([PYTHON, "-m", "benchmarks.load.setup", "--plan", plan], manage_env(url))
    return plan


def start_server(url, directory):
    """`make serve LOCAL=1` against `url` on a free port, its log in `directory`:
    (process, base URL, log path). Waiting until it answers is the caller's, inside the
    clean-up that stops it."""
    port = server.free_port()
    log_path = directory / "server.log"
    process = server.start(environment(url), log_path, port)
    return process, f"http://127.0.0.1:{port}", log_path


def start_locust(*, base_url, plan, directory, run_id, users, spawn_rate, seconds):
    """locust, headless, in a child process: (process, prefix of its statistics' files).

    Its final statistics go to `<prefix>.json` (`stats.read_stats`), the CSV files of the
    run's course to `<prefix>_*.csv`, each request to `requests.jsonl` and each visit
    posted to `visits.jsonl` (the locustfile's LOAD_EVENTS and LOAD_VISITS)."""
    prefix = directory / "locust"
    env = {
        **os.environ,
        "LOAD_PLAN": str(plan),
        "LOAD_RUN_ID": run_id,
        "LOAD_VISITS": str(directory / "visits.jsonl"),
        "LOAD_EVENTS": str(directory / "requests.jsonl"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        LOCUST,
        "-f",
        LOCUSTFILE,
        "--headless",
        "--users",
        users,
        "--spawn-rate",
        spawn_rate,
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "30",
        "--host",
        base_url,
        "--csv",
        prefix,
        "--json-file",
        prefix,
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    print("$ " + " ".join(str(part) for part in command), flush=True)
    log = open(directory / "locust.log", "wb")  # noqa: SIM115 - the child writes it
    try:
        process = subprocess.Popen(
            [str(part) for part in command], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    finally:
        log.close()
    return process, prefix


def stop_locust(process):
    """End locust if it still runs (the test stopped on an error before it was done)."""
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait()


def run_checks(url, directory, run_id, summaries=False):
    """The report of `benchmarks.load.checks` on the database `url`."""
    command = [
        PYTHON,
        "-m",
        "benchmarks.load.checks",
        "--run",
        run_id,
        "--visits",
        directory / "visits.jsonl",
    ]
    if summaries:
        command.append("--summaries")
    done = run_step(command, manage_env(url), log=subprocess.PIPE, text=True)
    return json.loads(done.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load.run",
        description="负载测试:50个模拟用户对 make serve LOCAL=1 的服务器工作60秒"
        "(需要 PostgreSQL)。",
    )
    parser.add_argument("--users", type=int, default=50, help="模拟用户数(默认50)。")
    parser.add_argument("--spawn-rate", type=int, default=10, help="每秒启动的用户数(默认10)。")
    parser.add_argument("--seconds", type=int, default=60, help="持续秒数(默认60)。")
    parser.add_argument("--small", action="store_true", help="只用两个街镇的演示数据。")
    parser.add_argument("--rebuild", action="store_true", help="删除并重建负载测试的数据库。")
    parser.add_argument("--update-readme", action="store_true", help="把结果写入 README.md。")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not is_postgres(url):
        print(
            "负载测试需要 PostgreSQL:请设置 DATABASE_URL=postgres://用户@主机:5432/库名"
            f"(测试在该服务器上另建数据库 {DEFAULT_DATABASE},不改动 DATABASE_URL 指定的库)。",
            file=sys.stderr,
        )
        return 2
    url = with_database(url, os.environ.get("LOAD_DATABASE") or DEFAULT_DATABASE)
    directory, run_id = run_dir("load")
    prepare_database(url, small=args.small, rebuild=args.rebuild)
    plan = write_plan(url, directory)
    process, base_url, server_log = start_server(url, directory)
    locust = None
    try:
        server.wait_ready(process, base_url, server_log)
        workers = server.worker_pids(process.pid)
        print(f"服务器已就绪:{base_url},gunicorn 工作进程 {len(workers)} 个。", flush=True)
        started = time.time()
        locust, prefix = start_locust(
            base_url=base_url,
            plan=plan,
            directory=directory,
            run_id=run_id,
            users=args.users,
            spawn_rate=args.spawn_rate,
            seconds=args.seconds,
        )
        locust.wait()
        elapsed = time.time() - started
    finally:
        stop_locust(locust)
        server.stop(process)
    if locust.returncode:
        print(f"locust 异常退出({locust.returncode}):\n{server.log_tail(directory / 'locust.log')}")
        return 1
    rows = stats.read_stats(f"{prefix}.json")
    requests = stats.read_lines(directory / "requests.jsonl")
    failures = stats.failures_of(requests)
    found = run_checks(url, directory, run_id)
    document = {
        "date": stats.now(),
        "machine": stats.machine(database_version(url)),
        "locust": locust_version(),
        "users": args.users,
        "roles": mix.role_counts(args.users),
        "spawn_rate": args.spawn_rate,
        "seconds": args.seconds,
        "elapsed_seconds": round(elapsed, 1),
        "think_seconds": list(mix.THINK_SECONDS),
        "workers": len(workers),
        "data": "seed_demo --small" if args.small else "seed_demo(长宁区全区)",
        "total": stats.total(rows).as_json(),
        "total_but_logins": stats.total(rows, stats.TOTAL_BUT_LOGINS).as_json(),
        "settled": stats.settled(requests),
        "requests": {row.name: row.as_json() for row in rows if not row.is_total},
        "failures": failures,
        "visits": found,
    }
    problems = checks_problems(found)
    if stats.total(rows).failures:
        problems.insert(0, f"失败的请求 {stats.total(rows).failures} 个:{failures[:5]}")
    document["passed"] = not problems
    print("\n" + "\n".join(stats.requests_table(rows)))
    return stats.report(
        "load",
        document,
        problems,
        directory=directory,
        summary=load_summary(document),
        readme=readme_block(document, rows),
        update=args.update_readme,
        passed="通过:没有失败的请求,每次走访都与用户得到的提示一致。",
    )


def checks_problems(found):
    from benchmarks.load.checks import problems_of

    return problems_of(found)


def load_summary(document):
    total = document["total"]
    pages = document["total_but_logins"]
    visits = document["visits"]
    roles = "、".join(f"{mix.ROLE_LABELS[r]} {n}" for r, n in document["roles"].items())
    saved = visits["outcomes"].get("saved", 0)
    agreed = "与数据库核对一致" if not checks_problems(visits) else "与数据库核对不一致(见下)"
    return (
        f"{document['users']} 个用户({roles},每次点击前停 "
        f"{'–'.join(f'{s:g}' for s in document['think_seconds'])} 秒),{document['seconds']} 秒,"
        f"数据:{document['data']},gunicorn 工作进程 {document['workers']} 个:"
        f"请求 {total['requests']} 个,"
        f"失败 {total['failures']} 个,每秒 {total['rps']} 个;全部请求 P50 {total['p50_ms']} ms,"
        f"P95 {total['p95_ms']} ms,P99 {total['p99_ms']} ms;登录以外的请求 "
        f"P50 {pages['p50_ms']} ms,P95 {pages['p95_ms']} ms,P99 {pages['p99_ms']} ms。"
        + settled_sentence(document["settled"])
        + f"顾问登记走访 {saved} 次,{agreed}。"
    )


def settled_sentence(settled):
    if not settled or not settled["requests"]:
        return ""
    return (
        f"全部用户登录完毕之后(第 {settled['from_seconds']} 秒起,不含登录):"
        f"请求 {settled['requests']} 个,失败 {settled['failures']} 个,P50 {settled['p50_ms']} ms,"
        f"P95 {settled['p95_ms']} ms,P99 {settled['p99_ms']} ms,最长 {settled['max_ms']} ms。"
    )


def readme_block(document, rows):
    return "\n".join(
        [stats.machine_line(document), "", load_summary(document), "", *stats.requests_table(rows)]
    )


if __name__ == "__main__":
    sys.exit(main())
