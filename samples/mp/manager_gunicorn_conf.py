# gunicorn config of the manager_gunicorn sample (see manager_gunicorn.py):
# the master starts a multiprocessing Manager's data process, every worker
# registers with it in post_fork.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import manager_gunicorn_app as sample  # noqa: E402

workers = 2
# a worker stuck in post_fork has not installed its own signal handlers
# yet: it still runs the master's, which only queue a SIGTERM. gunicorn
# SIGKILLs it after graceful_timeout when it shuts down.
graceful_timeout = 3


def on_starting(server):
    sample.start_data_process(server.log.info)


def post_fork(server, worker):
    sample.register_worker(server.log.info)


def on_exit(server):
    sample.stop_data_process()
