# preload_app plus gc.disable() before fork: the workers inherit a disabled
# collector, so no automatic collection ever visits (and writes to) the
# master's objects. An explicit gc.collect() (a library, or the app's /gc)
# still runs a full collection and copies what it visits, unlike gc.freeze();
# reference counting copies what a request reads either way; cycles made by
# requests are never freed. Measured (samples/README.md): the same as
# preload for /, /gc and /touch; the same as gc.freeze() for /grow, whose
# cached entries start an automatic full collection under plain preload.
import gc

preload_app = True
workers = 4


def pre_fork(server, worker):
    gc.disable()
