"""Gunicorn for Réemploi, behind nginx (deploy/nginx/reemploi.conf), which buffers every request
and response: sync workers only ever talk to nginx over the loopback, never to a slow client.

    gunicorn -c deploy/gunicorn.conf.py config.wsgi

Each setting can be changed from the environment (GUNICORN_BIND, GUNICORN_WORKERS,
GUNICORN_TIMEOUT, GUNICORN_ACCESS_LOG).
"""

import multiprocessing
import os

# Reachable by nginx only: the loopback (or a unix socket, e.g. unix:/run/reemploi/gunicorn.sock).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each answers one request at a time, which is safe only because nginx hands it
# whole requests and takes whole responses.
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# A request still running after this is killed with its worker; nginx waits a little longer
# (proxy_read_timeout 35s) so that the user sees gunicorn's answer rather than a proxy error.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# A worker is replaced after this many requests: memory a request leaked goes with it.
max_requests = 2000
max_requests_jitter = 200
# Request line and headers: gunicorn's own limits, spelled out (nginx's are smaller or equal).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# X-Forwarded-Proto and X-Forwarded-For are believed from nginx on this machine only.
forwarded_allow_ips = "127.0.0.1,::1"
# No control socket in $HOME: several instances on one machine would share its path.
control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# The client as nginx saw it, and the time each request took (microseconds).
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(D)sus'
errorlog = "-"
