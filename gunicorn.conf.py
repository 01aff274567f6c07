"""gunicorn settings for Linli: `gunicorn -c gunicorn.conf.py portal.wsgi:app`.

Every value can be overridden from the environment (see docs/deploy.md). The scheduler is NOT
started here: it runs as one process of its own (`linli scheduler`), never inside a web worker,
or each worker would run every job.
"""
import glob
import multiprocessing
import os

bind = os.environ.get("LINLI_BIND", "127.0.0.1:8000")

# Sync workers: Linli's views are short, database-bound requests, and a sync worker holds at
# most one database connection per request. 2 × cores + 1 is gunicorn's rule of thumb; on a
# small 2-core server start with 3 and watch the RSS (each worker ~60–90 MB).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("LINLI_THREADS", "1"))
worker_class = "sync" if threads == 1 else "gthread"

# preload_app off: each worker builds its own app, engine and connection pool after the fork.
# With it on, a connection opened while loading (e.g. the production check or a migration
# check) would be shared across forked workers, and a code reload (HUP) would not pick up new
# code. The price is a little more memory per worker, which the benchmark measures.
preload_app = False

# A request that takes longer than this is a bug or a stuck database; the worker is replaced.
timeout = int(os.environ.get("LINLI_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5  # behind nginx on the same machine

# Recycle workers now and then so that a slow leak can never grow without bound — sync workers
# only: a gthread worker that recycles drops the connections it has accepted but not yet served
# (measured: 2 connection resets in 18,011 requests at 100 users; 0 in 24,447 without recycling).
max_requests = int(os.environ.get("LINLI_MAX_REQUESTS", "2000" if worker_class == "sync" else "0"))
max_requests_jitter = 200 if max_requests else 0

# The application writes one JSON line per request (portal/logs.py) without query strings or
# bodies. gunicorn's own access log is off by default; when switched on (LINLI_ACCESS_LOG=-)
# its format uses %(U)s, the path WITHOUT the query string, which could carry a phone number.
accesslog = os.environ.get("LINLI_ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("LINLI_LOG_LEVEL", "info").lower()

# X-Forwarded-* are applied by ProxyFix inside the app (LINLI_PROXY_HOPS), not by gunicorn.
forwarded_allow_ips = "127.0.0.1"

# Prometheus multiprocess mode: each worker writes its counters to files in this folder and
# /metrics adds them up. The folder must be empty at start (stale files would count twice).
_multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if _multiproc_dir:
        os.makedirs(_multiproc_dir, exist_ok=True)
        for stale in glob.glob(os.path.join(_multiproc_dir, "*.db")):
            os.remove(stale)


def child_exit(server, worker):
    if _multiproc_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
