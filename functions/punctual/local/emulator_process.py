"""The emulated AWS endpoint in a child process of ``punctual dev``.

One Python process does one core's worth of work (the GIL). Sharing it, moto and the handlers calling it
each got half; apart, they use both cores of a small machine. The child is tied to its parent: it ignores
Ctrl-C (which reaches the whole process group) so that it outlives the threads still calling it while the
parent stops, and it exits when the parent closes its stdin, or dies.

``python -m punctual.local.emulator_process HOST PORT`` runs the child: it prints ``ready`` once it
serves, or ``error: ...`` if it cannot bind.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

_READY = "ready"
_START_TIMEOUT_SECONDS = 60.0
_STOP_TIMEOUT_SECONDS = 5.0


class EmulatorStartError(RuntimeError):
    """The child did not start serving (a port in use, a crash)."""


def ensure_port_free(host: str, port: int) -> None:
    """Raise OSError if ``host:port`` cannot be bound (checked before starting, so a failure is reported
    instead of a server quietly not serving)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


class EmulatorProcess:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = _START_TIMEOUT_SECONDS) -> None:
        """Start the child and wait until it serves. Raises EmulatorStartError."""
        package_root = str(Path(__file__).resolve().parents[2])  # the directory holding ``punctual``
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        }
        self._process = process = subprocess.Popen(
            [sys.executable, "-m", __name__, self.host, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline().decode(errors="replace").strip() if readable else ""
        if line != _READY:
            exited = process.poll()
            self.stop()
            if line:
                reason = line.removeprefix("error: ")
            elif exited is not None:
                reason = f"it exited with status {exited} (its error is above)"
            else:
                reason = f"no answer within {timeout:.0f} s"
            raise EmulatorStartError(reason)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the child's signal to stop
        try:
            process.wait(timeout=_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def main(argv: list[str]) -> int:
    """The child: serve until stdin closes."""
    host, port = argv[0], int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us once its own threads are done
    from punctual.local.emulator import EmulatorServer  # moto is imported here, in the child only

    server = EmulatorServer(ip_address=host, port=port, verbose=False)
    server.start()
    if server.error is not None:
        print(f"error: {server.error}", flush=True)
        return 1
    print(_READY, flush=True)
    os.dup2(
        2, 1
    )  # nobody reads our stdout from now on: what moto prints goes to stderr, not a pipe that fills
    sys.stdin.buffer.read()  # returns at end of file: the parent closed the pipe, or is gone
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
