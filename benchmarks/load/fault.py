"""`python -m benchmarks.load.fault`: the fault test (`make fault`): PostgreSQL restarts under load.

The database server is stopped and started again while 50 simulated users work, and the
application must come through it as production would need it to:

- it answers again within 30 seconds of the database being back (`RECOVERY_SECONDS`),
  without its workers being restarted: each keeps its connection (`CONN_MAX_AGE`) and
  finds it broken by the health check (`CONN_HEALTH_CHECKS`) before its next use;
- while the database is away, every failed request gets the Chinese error page
  (templates/500.html, "系统出错 … 您刚才的操作没有保存"), none goes unanswered;
- no request half-writes: a visit being saved as the database goes is either all there
  (its number, audit record and month summary) or not at all, and the user was told which
  (`benchmarks.load.checks`; the month summaries are also compared with a rebuild).

So that no other database is disturbed, the test makes a PostgreSQL cluster of its own,
`pg_createcluster <version> fault -p 5433` (root, or the postgres user, with Debian's
postgresql-common), with a password made for the run (scram-sha-256 over TCP), and drops it
at the end (`pg_dropcluster --stop`), whatever happened. In it: the database (the name of
`run.py`'s with `_fault` appended), migrated, with the demo's two streets (`seed_demo
--small`) and the load's logins. Then, as in the load test, the server (`deploy/serve.sh`,
`LOCAL=1`) and locust, whose users also write down every request (when it started and
ended, its status, whether an error answer was the error page). A probe asks for the
public directory (`/public/`, a page that reads the database) four times a second.

At `--restart-at` seconds into the load the test notes the gunicorn workers' process ids,
runs `pg_ctlcluster <version> fault stop` (PostgreSQL's fast shutdown: every session is
ended, every open transaction rolled back), waits `--down` seconds and runs
`pg_ctlcluster <version> fault start`; `--down 0` runs `pg_ctlcluster … restart` instead.
`judge` then reads the requests and the probe against that timeline. The figures go to
`benchmarks/load/results/fault.json` and, with `--update-readme`, into README.md.
"""

import argparse
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.load import mix, server, stats
from benchmarks.load import run as load_run
from benchmarks.load.workload import ERROR_PAGE_MARK

CLUSTER = "fault"
PORT = 5433
RECOVERY_SECONDS = 30
PROBE_PATH = "/public/"
PROBE_EVERY = 0.25


# The cluster ------------------------------------------------------------------------------


def _command(*command, check=True):
    print("$ " + " ".join(str(part) for part in command), flush=True)
    return subprocess.run(
        [str(part) for part in command], check=check, capture_output=True, text=True
    )


def cluster_status(version, name=CLUSTER):
    """The cluster's status in `pg_lsclusters` ("online", "down"), or None if there is none."""
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    for line in listing.stdout.splitlines():
        fields = line.split()
        if fields[:2] == [str(version), name]:
            return fields[3]
    return None


def port_in_use(port):
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    return any(line.split()[2] == str(port) for line in listing.stdout.splitlines())


def create_cluster(version, password, name=CLUSTER, port=PORT):
    """A new cluster listening on 127.0.0.1:`port`, its superuser `postgres` with `password`."""
    owner = pwd.getpwnam("postgres")
    descriptor, pwfile = tempfile.mkstemp(prefix="changning_aid_fault_")
    try:
        os.write(descriptor, (password + "\n").encode())
        os.close(descriptor)
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        _command(
            "pg_createcluster",
            version,
            name,
            "-p",
            port,
            "--start",
            "--",
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
        )
    finally:
        os.unlink(pwfile)


def drop_cluster(version, name=CLUSTER):
    if cluster_status(version, name) is not None:
        _command("pg_dropcluster", version, name, "--stop", check=False)


# Watching ---------------------------------------------------------------------------------


class Probe(threading.Thread):
    """Asks for the public directory every PROBE_EVERY seconds: (start, end, status, is the
    error page) for each answer."""

    def __init__(self, base_url):
        super().__init__(daemon=True)
        self.base_url = base_url
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            start = time.time()
            status, text = server.fetch(self.base_url, PROBE_PATH, timeout=10)
            self.samples.append((start, time.time(), status, ERROR_PAGE_MARK in text))
            self.done.wait(PROBE_EVERY)


def restart_database(version, down, timeline, name=CLUSTER):
    """Stop the cluster, wait `down` seconds, start it (or restart it at once for 0);
    `timeline` gets the times: stop (asked), stopped, start (asked), started (accepting)."""
    timeline["stop"] = time.time()
    if down:
        _command("pg_ctlcluster", version, name, "stop")
        timeline["stopped"] = time.time()
        time.sleep(down)
        timeline["start"] = time.time()
        _command("pg_ctlcluster", version, name, "start")
    else:
        _command("pg_ctlcluster", version, name, "restart")
        timeline["stopped"] = timeline["start"] = time.time()
    timeline["started"] = time.time()


def booted_workers(log_path):
    """How many times gunicorn's log says it booted a worker."""
    text = Path(log_path).read_text(encoding="utf-8", errors="replace")
    return text.count("Booting worker with pid")


# Judging ----------------------------------------------------------------------------------


def judge(requests, probes, timeline, workers_before, workers_after, booted, deadline=None):
    """The fault test's findings and failures (sentences), from the requests the users made
    (the locustfile's LOAD_EVENTS lines), the probe's samples, the timeline of the restart,
    the workers' ids before and after and how many workers gunicorn booted in all."""
    deadline = RECOVERY_SECONDS if deadline is None else deadline
    stop, started = timeline["stop"], timeline["started"]
    limit = started + deadline
    failed = [r for r in requests if r["failed"]]
    before = [r for r in failed if r["end"] < stop]
    during = [r for r in failed if r["end"] >= stop and r["start"] < limit]
    after = [r for r in failed if r["start"] >= limit]
    errors = [r for r in during if r["status"] >= 500]
    unanswered = [r for r in during if r["status"] == 0]
    other = [r for r in during if 0 < r["status"] < 500]
    recovered = next((p for p in probes if p[0] >= started and p[2] == 200), None)
    outage = [p for p in probes if timeline["stopped"] <= p[0] < timeline["start"]]
    found = {
        "requests": len(requests),
        "failed_before": len(before),
        "failed_during": len(during),
        "failed_after": len(after),
        "error_pages": sum(1 for r in errors if r["error_page"]),
        "errors_without_error_page": len([r for r in errors if not r["error_page"]]),
        "unanswered": len(unanswered),
        "other_failures": sorted({f"{r['name']} {r['status']}" for r in other}),
        "recovery_seconds": round(recovered[1] - started, 2) if recovered else None,
        "last_failure_after_start_seconds": (
            round(max(r["end"] for r in failed) - started, 2) if failed else None
        ),
        "outage_probes": len(outage),
        "outage_error_pages": sum(1 for p in outage if p[2] >= 500 and p[3]),
        "workers_before": workers_before,
        "workers_after": workers_after,
        "workers_booted": booted,
        "database_down_seconds": round(started - stop, 2),
    }
    problems = []
    if before:
        problems.append(f"数据库停止之前已有 {len(before)} 个请求失败")
    if after:
        problems.append(
            f"数据库恢复 {deadline} 秒之后仍有 {len(after)} 个请求失败,"
            f"如 {[(r['name'], r['status']) for r in after[:3]]}"
        )
    if recovered is None:
        problems.append("数据库恢复之后,公开目录页面一直没有恢复正常")
    elif recovered[1] - started > deadline:
        problems.append(f"公开目录页面在数据库恢复 {recovered[1] - started:.1f} 秒后才恢复正常")
    if found["errors_without_error_page"]:
        problems.append(f"{found['errors_without_error_page']} 个错误应答不是中文错误页面")
    if unanswered:
        problems.append(f"{len(unanswered)} 个请求没有得到任何应答")
    if other:
        problems.append(f"停库期间的意外应答:{found['other_failures'][:5]}")
    if not outage or not found["outage_error_pages"]:
        problems.append("停库期间探测没有看到错误页面:故障没有被观察到")
    if not workers_before or workers_before != workers_after:
        problems.append(f"gunicorn 工作进程变了:{workers_before} → {workers_after}")
    if booted != len(workers_before):
        problems.append(f"gunicorn 启动过 {booted} 个工作进程(应为 {len(workers_before)} 个)")
    return found, problems


# The test ---------------------------------------------------------------------------------


def _refusal():
    if shutil.which("pg_createcluster") is None:
        return "故障测试需要 Debian 的 postgresql-common(pg_createcluster、pg_ctlcluster)。"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "故障测试需要系统用户 postgres。"
    if os.geteuid() != 0:
        return "故障测试需要以 root 身份运行(pg_createcluster 建立新的 PostgreSQL 集群)。"
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load.fault",
        description="故障测试:负载进行中重启自己的 PostgreSQL 集群(fault,端口 5433)。",
    )
    parser.add_argument("--pg-version", default="15", help="PostgreSQL 主版本(默认15)。")
    parser.add_argument("--users", type=int, default=50, help="模拟用户数(默认50)。")
    parser.add_argument("--spawn-rate", type=int, default=10, help="每秒启动的用户数(默认10)。")
    parser.add_argument("--seconds", type=int, default=60, help="负载持续秒数(默认60)。")
    parser.add_argument("--restart-at", type=int, default=15, help="负载开始后第几秒停库(默认15)。")
    parser.add_argument(
        "--down", type=int, default=5, help="停库多少秒后再启动(默认5;0 为直接 restart)。"
    )
    parser.add_argument("--update-readme", action="store_true", help="把结果写入 README.md。")
    args = parser.parse_args(argv)
    refusal = _refusal()
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    if args.restart_at + args.down + RECOVERY_SECONDS > args.seconds:
        print(
            f"--seconds 至少要 --restart-at + --down + {RECOVERY_SECONDS}:恢复期限之后还须有负载。",
            file=sys.stderr,
        )
        return 2
    version = args.pg_version
    if cluster_status(version) is not None:
        print(f"集群 {version}/{CLUSTER} 已存在(上次故障测试留下的):先删除它。", flush=True)
        drop_cluster(version)
    if port_in_use(PORT):
        print(f"端口 {PORT} 已被另一个 PostgreSQL 集群使用。", file=sys.stderr)
        return 2

    directory, run_id = load_run.run_dir("fault")
    password = secrets.token_urlsafe(24)
    name = f"{os.environ.get('LOAD_DATABASE') or load_run.DEFAULT_DATABASE}_fault"
    url = f"postgres://postgres:{password}@127.0.0.1:{PORT}/{name}"
    process = locust = probe = None
    try:
        create_cluster(version, password)
        load_run.prepare_database(url, small=True, rebuild=True)
        plan = load_run.write_plan(url, directory)
        process, base_url, server_log = load_run.start_server(url, directory)
        server.wait_ready(process, base_url, server_log)
        print(f"服务器已就绪:{base_url}。", flush=True)
        probe = Probe(base_url)
        probe.start()
        locust, prefix = load_run.start_locust(
            base_url=base_url,
            plan=plan,
            directory=directory,
            run_id=run_id,
            users=args.users,
            spawn_rate=args.spawn_rate,
            seconds=args.seconds,
        )
        began = time.time()
        time.sleep(max(args.restart_at - (time.time() - began), 0))
        workers_before = server.worker_pids(process.pid)
        timeline = {}
        restart_database(version, args.down, timeline)
        print(
            f"数据库已重新启动(停库 {timeline['started'] - timeline['stop']:.1f} 秒)。", flush=True
        )
        locust.wait()
        probe.done.set()
        probe.join()
        workers_after = server.worker_pids(process.pid)
        booted = booted_workers(server_log)
        found = load_run.run_checks(url, directory, run_id, summaries=True)
        version_text = load_run.database_version(url)
    finally:
        load_run.stop_locust(locust)
        if probe is not None:
            probe.done.set()
        if process is not None:
            server.stop(process)
        drop_cluster(version)
    if locust.returncode:
        print(f"locust 异常退出({locust.returncode}):\n{server.log_tail(directory / 'locust.log')}")
        return 1

    requests = stats.read_lines(directory / "requests.jsonl")
    fault, problems = judge(
        requests, probe.samples, timeline, workers_before, workers_after, booted
    )
    problems += load_run.checks_problems(found)
    rows = stats.read_stats(f"{prefix}.json")
    document = {
        "date": stats.now(),
        "machine": stats.machine(version_text),
        "locust": load_run.locust_version(),
        "users": args.users,
        "roles": mix.role_counts(args.users),
        "seconds": args.seconds,
        "restart_at": args.restart_at,
        "down": args.down,
        "data": "seed_demo --small",
        "timeline": {key: round(value - began, 2) for key, value in timeline.items()},
        "fault": fault,
        "total": stats.total(rows).as_json(),
        "visits": found,
        "passed": not problems,
        "problems": problems,
    }
    summary = fault_summary(document)
    return stats.report(
        "fault",
        document,
        problems,
        directory=directory,
        summary=summary,
        readme="\n".join([stats.machine_line(document), "", summary]),
        update=args.update_readme,
        passed="通过。",
    )


def last_failure_sentence(seconds):
    if seconds is None:
        return "没有失败的请求;"
    if seconds < 0:
        return f"最后一个失败的请求在 `pg_ctlcluster start` 返回前 {-seconds} 秒就已结束;"
    return f"最后一个失败的请求在 `pg_ctlcluster start` 返回后 {seconds} 秒结束;"


def fault_summary(document):
    fault, visits, total = document["fault"], document["visits"], document["total"]
    outcomes = visits["outcomes"]
    told_failed = sum(outcomes.get(kind, 0) for kind in ("refused", "failed", "no_answer"))
    recovery = fault["recovery_seconds"]
    return "\n".join(
        [
            f"{document['users']} 个用户、{document['seconds']} 秒的负载中"
            f"(数据:{document['data']}),"
            f"第 {document['restart_at']} 秒停库 {fault['database_down_seconds']} 秒"
            + (
                f"(`pg_ctlcluster stop`,{document['down']} 秒后 `start`):"
                if document["down"]
                else "(`pg_ctlcluster restart`):"
            ),
            "",
            f"- 请求 {fault['requests']} 个(P50 {total['p50_ms']} ms,"
            f"P95 {total['p95_ms']} ms,P99 {total['p99_ms']} ms);"
            f"停库前失败 {fault['failed_before']} 个,"
            f"停库到恢复期限内失败 {fault['failed_during']} 个"
            f"(其中中文错误页面 {fault['error_pages']} 个,无应答 {fault['unanswered']} 个),"
            f"恢复期限之后失败 {fault['failed_after']} 个;",
            f"- `pg_ctlcluster start` 返回后 {recovery if recovery is not None else '—'} 秒"
            f"公开目录页面恢复正常(要求 {RECOVERY_SECONDS} 秒内),"
            + last_failure_sentence(fault["last_failure_after_start_seconds"]),
            f"- gunicorn 工作进程前后相同({len(fault['workers_before'])} 个,进程号不变,"
            f"共启动 {fault['workers_booted']} 个);"
            if fault["workers_before"] == fault["workers_after"]
            else f"- gunicorn 工作进程变了:{fault['workers_before']} → {fault['workers_after']}",
            f"- 顾问登记走访:提示已保存 {outcomes.get('saved', 0)} 次,"
            + (
                "全部在库"
                if not visits["saved_missing"]
                else f"其中 {len(visits['saved_missing'])} 次不在库中"
            )
            + f";提示失败 {told_failed} 次,"
            + (
                "库中都没有"
                if not visits["told_failed_but_stored"]
                else f"其中 {len(visits['told_failed_but_stored'])} 次却在库中"
            )
            + f";不完整的走访 {len(visits['half_written'])} 条;走访汇总与重建结果"
            + (
                "一致。"
                if not any((visits.get("summary_differences") or {}).values())
                else "不一致。"
            ),
            "",
            "结论:"
            + ("通过。" if document["passed"] else "未通过:" + ";".join(document["problems"])),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
