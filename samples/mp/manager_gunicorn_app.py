"""The app and the multiprocessing Manager of the manager_gunicorn sample
(run it with samples/mp/manager_gunicorn.py, which explains it).

The gunicorn master (manager_gunicorn_conf.py, on_starting) builds the
Manager's server -- get_server() binds and listens on a unix socket right
there, in the master -- and serves it from a daemon multiprocessing.Process:
the "data process", a child of the master holding a dict of registered
workers and an event queue. Each worker, in post_fork, connects to it and
registers itself. Workers are forked from the master, so they inherit
multiprocessing's bookkeeping: the data process is in their list of
"children", and multiprocessing's atexit handler terminates daemon children.

/         this worker's pid and the workers registered in the data process
/health   "ok"
"""
import json
import multiprocessing
import os
import queue
import shutil
import signal
import tempfile
import time
from multiprocessing import process as mp_process
from multiprocessing.managers import BaseManager, DictProxy

from flask import Flask

AUTHKEY = b"cowprof-sample"

# These two live in the data process (it is forked after they are made, and
# only it serves them).
_workers = {}
_events = queue.Queue()


def _get_workers():
    return _workers


def _get_events():
    return _events


class DataManager(BaseManager):
    pass


DataManager.register("workers", callable=_get_workers, proxytype=DictProxy)
DataManager.register("events", callable=_get_events)

# Master only.
SOCKDIR = None
ADDRESS = None
_server = None  # keeps the listening socket (and its file) alive in the master
_data = None    # the data process (multiprocessing.Process)

# Each worker: proxies to the data process's objects.
WORKERS = None
EVENTS = None


def start_data_process(log):
    """In the master, before gunicorn installs its signal handlers
    (on_starting): the data process keeps the default SIGTERM action."""
    global SOCKDIR, ADDRESS, _server, _data
    SOCKDIR = tempfile.mkdtemp(prefix="cowprof-manager-")
    ADDRESS = os.path.join(SOCKDIR, "data.sock")
    _server = DataManager(address=ADDRESS, authkey=AUTHKEY).get_server()
    _data = multiprocessing.Process(target=_server.serve_forever, name="data", daemon=True)
    _data.start()
    log("cowprof sample: data process %d serving %s" % (_data.pid, ADDRESS))


def register_worker(log):
    """In each worker (post_fork): connect to the data process, register."""
    global WORKERS, EVENTS
    pid = os.getpid()
    log("cowprof sample: post_fork %d: connecting to the data process" % pid)
    m = DataManager(address=ADDRESS, authkey=AUTHKEY)
    # Once the data process is gone, connect() still succeeds: the master
    # (and every worker) holds the listening socket it inherited. Nobody
    # accepts, so the authentication challenge never comes and this blocks
    # for ever in recv (wchan unix_stream_read_generic).
    m.connect()
    WORKERS = m.workers()
    EVENTS = m.events()
    WORKERS[pid] = time.time()
    EVENTS.put(("booted", pid))
    log("cowprof sample: post_fork %d: registered (%d workers known)" % (pid, len(WORKERS)))


def stop_data_process():
    """In the master at exit (on_exit): end the data process if it is still
    ours, and drop it from multiprocessing's children when it is not (a
    worker's atexit killed it and gunicorn reaped it), so multiprocessing's
    own atexit handler does not signal a pid that may have been reused."""
    if _data is None:
        return
    if _is_child(_data.pid):
        os.kill(_data.pid, signal.SIGTERM)
        _data.join(5)
    else:
        mp_process._children.discard(_data)
    _server.listener.close()  # unlinks the socket file
    shutil.rmtree(SOCKDIR, ignore_errors=True)


def _is_child(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]) == os.getpid() and fields[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


app = Flask(__name__)


@app.route("/")
def index():
    known = sorted(WORKERS.keys()) if WORKERS is not None else []
    return json.dumps({"pid": os.getpid(), "registered": known}) + "\n"


@app.route("/health")
def health():
    return "ok"
