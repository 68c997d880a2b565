"""A Flask app that holds a large dict, the shape of many real services: a
model, a lookup table or a cache built at start-up. With preload_app the
master builds it once before forking, and the workers share it until
reference counting writes to its objects and the kernel copies their pages.

/          a tiny response
/touch     a read-only pass over the whole dict (its refcount writes copy
           the pages it touches)
/gc        gc.collect() (the collector writes to every tracked object)
/health    "ok"
"""
import gc
import os

from flask import Flask

DATA_ITEMS = int(os.environ.get("COWPROF_DATA_ITEMS", "1000000"))


def build_data(n):
    # ~200 MB for a million entries: str keys, tuple values with a float and
    # a list, as real lookup tables are
    return {"key-%d" % i: (i, float(i), [i, i + 1]) for i in range(n)}


DATA = build_data(DATA_ITEMS)
app = Flask(__name__)


@app.route("/")
def index():
    return "cowprof sample: %d items, pid %d\n" % (len(DATA), os.getpid())


@app.route("/touch")
def touch():
    total = 0
    for k, v in DATA.items():
        total += v[0]
    return "%d\n" % total


@app.route("/gc")
def collect():
    return "%d\n" % gc.collect()


@app.route("/health")
def health():
    return "ok"
