# preload_app plus gc.freeze() before fork: the collector no longer visits
# (and writes to) the objects built by the master, so gc.collect() in a
# worker stops copying them; reference counting still does.
import gc

preload_app = True
workers = 4


def pre_fork(server, worker):
    gc.freeze()
