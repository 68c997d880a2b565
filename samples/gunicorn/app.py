"""A Flask app that holds a large dict, the shape of many real services: a
model, a lookup table or a cache built at start-up. With preload_app the
master builds it once before forking, and the workers share it until
reference counting writes to its objects and the kernel copies their pages.

/          a tiny response
/touch     a read-only pass over the whole dict (its refcount writes copy
           the pages it touches)
/gc        gc.collect() (the collector writes to every tracked object)
/grow      adds GROW_ITEMS (50,000) entries of the same shape to this
           worker's own cache, as a worker that caches results does, and
           answers the cache's size and the count of full collections: with
           preload the first call is enough to start the collector's
           automatic full collection, which visits -- and copies -- the
           master's objects too, unless gc.freeze() or gc.disable() was
           called before fork (see samples/README.md)
/health    "ok"
"""
import gc
import os

from flask import Flask

DATA_ITEMS = int(os.environ.get("COWPROF_DATA_ITEMS", "1000000"))


def build_data(n):
    # ~320 MiB for a million entries (measured: the master's anon memory):
    # str keys, tuple values with a float and a list, as real lookup tables are
    return {"key-%d" % i: (i, float(i), [i, i + 1]) for i in range(n)}


DATA = build_data(DATA_ITEMS)
GROW_ITEMS = 50000
CACHE = {}
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


@app.route("/grow")
def grow():
    base = len(CACHE)
    for i in range(base, base + GROW_ITEMS):
        CACHE["cached-%d" % i] = (i, float(i), [i, i + 1])
    return "%d %d\n" % (len(CACHE), gc.get_stats()[2]["collections"])


@app.route("/health")
def health():
    return "ok"
