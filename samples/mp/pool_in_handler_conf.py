# gunicorn config of the pool_in_handler sample (see pool_in_handler.py):
# no preload, 4 sync workers; each /work request makes its own Pool(4).
preload_app = False
workers = 4
