"""The Flask app of the pool_in_handler sample (run it with
samples/mp/pool_in_handler.py, which explains it).

/work     creates a multiprocessing.Pool(POOL_PROCESSES) for this request,
          maps POOL_TASKS tasks of POOL_TASK_SECONDS over it, closes and
          joins it; answers {"worker": pid, "pool": [pids that ran tasks]}
/health   "ok"

Each worker also holds a table of POOL_DATA_ITEMS entries (~320 bytes
each) built at import, which every pool process inherits.
"""
import json
import multiprocessing
import os
import time

from flask import Flask

POOL_PROCESSES = int(os.environ.get("POOL_PROCESSES", "4"))
POOL_TASKS = int(os.environ.get("POOL_TASKS", "8"))
POOL_TASK_SECONDS = float(os.environ.get("POOL_TASK_SECONDS", "0.2"))
DATA = {"key-%d" % i: (i, float(i), [i, i + 1])
        for i in range(int(os.environ.get("POOL_DATA_ITEMS", "100000")))}

app = Flask(__name__)


def task(i):
    time.sleep(POOL_TASK_SECONDS)
    return os.getpid(), len(DATA)


@app.route("/work")
def work():
    # the anti-pattern: a pool per request, in a process gunicorn forked
    pool = multiprocessing.get_context("fork").Pool(POOL_PROCESSES)
    try:
        done = pool.map(task, range(POOL_TASKS), chunksize=1)
    finally:
        pool.close()
        pool.join()
    return json.dumps({"worker": os.getpid(), "pool": sorted({pid for pid, _ in done})}) + "\n"


@app.route("/health")
def health():
    return "ok"
