"""Benchmarks of changning_aid (`make bench`, `python -m benchmarks.run`): see README.md.

`measured()` times a block and the memory it took: `seconds` is wall-clock time
(`time.perf_counter`), database time included; `cpu_seconds` the CPU time of this process
and `db_cpu_seconds` that of its PostgreSQL backend (when the server runs on this machine),
which show what the wall-clock time owes to other work on a shared machine (printed, not
kept in the results file); `peak_mb` is the process's peak resident
memory during the block minus its resident memory when the block began, in MiB. On Linux
the kernel's high-water mark (VmHWM) is reset at the start through /proc/self/clear_refs,
so the peak is the block's own; elsewhere it is the growth of `ru_maxrss`, which shows
nothing when the block stays under an earlier peak of the process. Neither slows the block
down (tracemalloc would, several times over, and would miss the C libraries' memory).
"""

import gc
import os
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


@dataclass
class Measurement:
    seconds: float = 0.0
    peak_mb: float = 0.0
    cpu_seconds: float = 0.0
    db_cpu_seconds: float | None = None

    def as_json(self):
        return {"seconds": round(self.seconds, 3), "peak_mb": round(self.peak_mb, 1)}


def _status_kib(field):
    with open(_STATUS, encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def _reset_peak():
    """Reset the kernel's peak RSS to the current RSS; the RSS in KiB, or None if unable."""
    try:
        with open(_CLEAR_REFS, "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        return _status_kib("VmRSS")
    except (OSError, LookupError):
        return None


def _maxrss_kib():
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage // 1024 if sys.platform == "darwin" else usage  # bytes on macOS


def memory_method():
    """How `peak_mb` is measured on this machine (for the results' `machine`)."""
    return "VmHWM (reset via /proc/self/clear_refs)" if _reset_peak() is not None else "ru_maxrss"


def backend_cpu_seconds(connection):
    """CPU seconds used so far by `connection`'s PostgreSQL backend, if it runs here."""
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@contextmanager
def measured(connection=None):
    """Time the block and its peak memory: `with measured() as m: ...; m.seconds`.

    With a `connection`, the CPU time of its database backend too (see the module).
    """
    measurement = Measurement()
    gc.collect()
    start_db_cpu = backend_cpu_seconds(connection) if connection is not None else None
    start_rss = _reset_peak()
    start_maxrss = _maxrss_kib()
    start_cpu = time.process_time()
    started = time.perf_counter()
    try:
        yield measurement
    finally:
        measurement.seconds = time.perf_counter() - started
        measurement.cpu_seconds = time.process_time() - start_cpu
        if start_db_cpu is not None:
            end_db_cpu = backend_cpu_seconds(connection)
            if end_db_cpu is not None:
                measurement.db_cpu_seconds = end_db_cpu - start_db_cpu
        if start_rss is not None:
            grown = _status_kib("VmHWM") - start_rss
        else:
            grown = _maxrss_kib() - start_maxrss
        measurement.peak_mb = max(grown, 0) / 1024


def host_hardware():
    """The CPU model and the memory of this machine from /proc (Linux): {"cpu", "memory_gb"},
    what of them could be read."""
    info = {}
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


class RunFigures:
    """What a job's `runs` (`Measurement`s of `measured`) come to: the median seconds and
    the largest peak memory, as results/latest.json holds them."""

    runs: list

    @property
    def seconds(self):
        return statistics.median(run.seconds for run in self.runs)

    @property
    def peak_mb(self):
        return max(run.peak_mb for run in self.runs)

    def as_json(self):
        return {"seconds": round(self.seconds, 3), "peak_mb": round(self.peak_mb, 1)}


@dataclass
class Section:
    """What one part of the benchmark gives `benchmarks.run`: its results and its table.

    `pages`: {NAME: {"role", "p50_ms", "p95_ms", "queries"}}; `jobs`: {NAME: {"seconds",
    "peak_mb"}}; `lines`: the lines it prints (a table with Chinese headers, aligned, and
    the targets met or missed); `failures`: what the run must report as failed (a query
    count that differs between scales, a result that is wrong), in Chinese.
    """

    pages: dict = field(default_factory=dict)
    jobs: dict = field(default_factory=dict)
    lines: list = field(default_factory=list)
    failures: list = field(default_factory=list)
