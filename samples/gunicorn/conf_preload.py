# preload_app: the master imports the app (and builds its data) once, then
# forks the workers, which share it copy-on-write.
preload_app = True
workers = 4
