"""A terminal for TUI tests: one detached tmux session on a private server
(its own socket per session), driven with send-keys and read with
capture-pane, killed (and its socket removed) at the end."""
import os
import re
import subprocess
import time

_servers = [0]


class Tmux:
    """One detached tmux session on a private server, killed on exit."""

    def __init__(self, command, x=120, y=40, name="view"):
        self.name = name
        _servers[0] += 1
        self.socket = "cowprof-test-%d-%d" % (os.getpid(), _servers[0])
        r = self.tmux("new-session", "-d", "-s", self.name, "-x", str(x), "-y", str(y),
                  "sh -c '%s; echo EXIT=$?; sleep 120'" % command)
        assert r.returncode == 0, r.stderr

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def mouse(self, x, y, button=0):
        """A mouse event at column x, line y (from 0) as an xterm sends it
        (X10 encoding, which the tmux terminfo's kmous names): button 0 is
        a left press (followed by its release), 64 and 65 the wheel up and
        down."""
        events = (button, 3) if button < 64 else (button,)
        for b in events:
            self.tmux("send-keys", "-t", self.name, "-l",
                      "\x1b[M" + chr(32 + b) + chr(33 + x) + chr(33 + y))

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name).stdout

    def resize(self, x, y):
        r = self.tmux("resize-window", "-t", self.name, "-x", str(x), "-y", str(y))
        assert r.returncode == 0, r.stderr

    def wait_for(self, pattern, timeout=10.0):
        """The screen once pattern (a regex) shows on it."""
        end = time.time() + timeout
        text = ""
        while time.time() < end:
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.1)
        raise AssertionError("%r not on screen:\n%s" % (pattern, text))

    def close(self):
        # kill-server leaves the socket file behind: remove it too
        sock = self.tmux("display-message", "-p", "#{socket_path}").stdout.strip()
        self.tmux("kill-server")
        if sock and os.path.basename(sock) == self.socket:
            try:
                os.unlink(sock)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
