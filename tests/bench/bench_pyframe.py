"""Time one walk of a 30-frame Python stack with collectors/pyframe.c:
in-process, as the preload library's fault handler does it (thread state
lookup, frame walk with line numbers, optionally the names of every frame),
and from outside with process_vm_readv (build/pystack -b), one system call
a read or through the page cache. Run by make bench with /usr/bin/python3
(3.11); prints figures."""
import ctypes
import os
import subprocess
import sys
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, "build", "libpyframe_inproc.so")
ITERS = 3000
ROUNDS = 9


def walk(lib, iters, names):
    ns = ctypes.c_double()
    buf = ctypes.create_string_buffer(1 << 16)
    n = lib.pyframe_inproc_walk(iters, names, ctypes.byref(ns), buf, len(buf))
    if n < 0:
        sys.exit("bench_pyframe: " + buf.value.decode())
    return n, ns.value


def at_depth(depth, fn):
    if depth > 1:
        return at_depth(depth - 1, fn)
    return fn()


def main():
    # PyDLL keeps the GIL during the call (the thread state is found in one
    # read, as for a fault in Python code); CDLL releases it (the thread
    # list is searched, as for a fault in C code without the GIL).
    for kind, loader in (("GIL held", ctypes.PyDLL), ("GIL released", ctypes.CDLL)):
        lib = loader(LIB)
        lib.pyframe_inproc_walk.restype = ctypes.c_int
        for names in (0, 1):
            # 30 frames in all, counting the lambda and walk() on top
            depth = 30 - 2 - len(traceback.extract_stack())
            runs = []
            for _ in range(ROUNDS):
                runs.append(at_depth(depth, lambda: walk(lib, ITERS, names)))
            runs.sort()
            n = runs[0][0]
            print("pyframe in-process walk, %d frames, %s, %s: median %.2f us, min %.2f us"
                  % (n, kind, "with names" if names else "code+line only",
                     runs[ROUNDS // 2][1] / 1000, runs[0][1] / 1000))


# A process sleeping 30 frames deep (the module, d() 28 times, and the
# innermost d() calling time.sleep).
DEEP = """
import sys, time
def d(n):
    return d(n - 1) if n else (print(1, flush=True), time.sleep(3600))
d(28)
"""


def remote():
    p = subprocess.Popen([sys.executable, "-c", DEEP], stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        r = subprocess.run([os.path.join(ROOT, "build", "pystack"), "-b", "2000", str(p.pid)],
                           capture_output=True, text=True, timeout=120)
        for line in r.stderr.splitlines():
            print("pyframe process_vm_readv " + line.split(": ", 1)[1])
    finally:
        p.kill()
        p.wait()


if __name__ == "__main__":
    main()
    remote()
