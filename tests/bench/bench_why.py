#!/usr/bin/python3
"""What the recorder's wait states (record/why) add to a sample, for a
tree of 50 processes: a Python parent holding 64 MiB and 49 forked
children, each blocked reading a pipe the parent holds the write end of,
so that every sample also scans the tree's fd table and resolves the
pipe's writers (the costly case; sleepers cost less). build/bench_why
times the walk and the wait states alone, as the recorder does them.
Target: <= 10% of a sample's time. Figures only."""
import os
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHILDREN = int(os.environ.get("BENCH_CHILDREN", "49"))
RUNS = os.environ.get("BENCH_RUNS", "20")

TREE = """
import os, sys, time
data = bytearray(b"x") * (64 << 20)
r, w = os.pipe()
kids = []
for _ in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
    kids.append(pid)
print("ready", flush=True)
time.sleep(600)
"""


def main():
    tree = subprocess.Popen(["/usr/bin/python3", "-c", TREE, str(CHILDREN)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert tree.stdout.readline().strip() == "ready"
        r = subprocess.run([os.path.join(ROOT, "build", "bench_why"), str(tree.pid), RUNS],
                           capture_output=True, text=True, timeout=600)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
    finally:
        # the children end when the write end closes with the parent
        os.kill(tree.pid, signal.SIGKILL)
        tree.wait(30)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
