# No preload: every worker imports the app and builds its own data after
# fork: nothing of it is shared.
preload_app = False
workers = 4
