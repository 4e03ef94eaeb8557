"""The server under test: `deploy/serve.sh` (what `make serve LOCAL=1` runs) in a child process.

`start` runs it with `LOCAL=1` on a free port of 127.0.0.1, its output (the deployment
check, migrate, collectstatic, then gunicorn's log with the access log) going to a file;
`wait_ready` waits until the login page answers; `worker_pids` reads the gunicorn master's
children from /proc (the master is the child process itself: serve.sh ends with `exec
gunicorn`); `stop` asks the master to stop (SIGTERM: gunicorn's graceful stop) and, should
it not within the time, kills the process group it was started in.
"""

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "deploy" / "serve.sh"
READY_PATH = "/accounts/login/"


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start(env, log_path, port, host="127.0.0.1"):
    """serve.sh on `host:port` with `env`, LOCAL=1; its output in `log_path`."""
    env = {
        **env,
        "BIN": str(ROOT / ".venv" / "bin"),
        "ADDRESS": f"{host}:{port}",
        "LOCAL": "1",
        "MIGRATE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = open(log_path, "ab")  # noqa: SIM115 - the child writes it for its whole life
    try:
        return subprocess.Popen(
            [str(SERVE)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        log.close()


def fetch(base_url, path, timeout=10.0):
    """(status, text) of a GET of `path`, redirects not followed; (0, why) without answer."""
    host, port = base_url.split("//", 1)[1].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as error:
        return 0, f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def log_tail(log_path, lines=30):
    try:
        text = Path(log_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_ready(process, base_url, log_path, timeout=300.0):
    """Wait until the login page answers 200; RuntimeError if the server stops or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"服务器启动失败(退出状态 {process.returncode}):\n{log_tail(log_path)}"
            )
        status, _text = fetch(base_url, READY_PATH, timeout=5)
        if status == 200:
            return
        time.sleep(0.5)
    raise RuntimeError(f"服务器 {timeout:.0f} 秒内没有就绪:\n{log_tail(log_path)}")


def worker_pids(master_pid):
    """The process ids of the gunicorn master's children (its workers), sorted."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == master_pid:
            workers.append(int(entry.name))
    return sorted(workers)


def stop(process, timeout=45.0):
    """Stop the server started by `start`; its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode
