"""gunicorn's settings for the production server (`make serve`, deploy/changning-aid.service).

Read by `gunicorn -c changning_aid/gunicorn.conf.py changning_aid.wsgi:application`; the
environment decides what differs between machines:

- GUNICORN_BIND: the address to listen on (default 127.0.0.1:8000, behind the proxy on the
  same machine; `make serve` passes ADDRESS);
- WEB_CONCURRENCY: worker processes (default 2 × CPUs + 1). Each holds one connection to
  each database (CONN_MAX_AGE), which PostgreSQL's max_connections must allow for every
  app server together;
- GUNICORN_TIMEOUT: seconds a request may take before its worker is replaced (default 120:
  the largest exports take tens of seconds; the proxy's proxy_read_timeout must not be
  shorter).

The access log leaves out query strings: searches and export purposes may carry names or
ID numbers, which have no place in a log.
"""

import multiprocessing
import os

bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
# Replace workers now and then, staggered, so that no slow leak grows for weeks.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat files in memory rather than on a disk that may stall.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
# No control socket in the home folder: systemd or `make serve` manage the process.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
# Who (the proxy's X-Forwarded-For), when, method, path without the query, status, size, time.
access_log_format = '%({x-forwarded-for}i)s %(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
