"""Runs `nearstore serve` as a child process for the server tests, on a free loopback port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def nearstore_binary() -> str:
    """The `nearstore` command: $NEARSTORE_BIN, else the one pip installed beside this Python,
    else the CMake build's, else whatever is on PATH."""
    candidates = [
        os.environ.get("NEARSTORE_BIN", ""),
        str(Path(sys.prefix) / "bin" / "nearstore"),
        str(REPO / "build" / "src" / "cli" / "nearstore"),
        shutil.which("nearstore") or "",
    ]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    raise RuntimeError("no nearstore binary: pip install . or build the CLI (scripts/build.sh)")


class ServerProcess:
    """`nearstore serve PATH --port 0 ...`; `url` once it listens. Its stderr (the access log)
    goes to `log_path`."""

    def __init__(self, db_path: Path, *args: str, config: dict[str, Any] | None = None,
                 log_path: Path | None = None) -> None:
        cmd = [nearstore_binary(), "serve", str(db_path), "--port", "0", *args]
        if config is not None:
            config_path = Path(str(db_path) + ".config.json")
            config_path.write_text(json.dumps(config))
            cmd += ["--config", str(config_path)]
        self.log_path = log_path or Path(str(db_path) + ".server.log")
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, text=True)
        line = self._first_line(timeout=30)
        if "listening on " not in line:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}; log: {self.log()}")
        self.url = line.split("listening on ", 1)[1].split()[0]

    def _first_line(self, timeout: float) -> str:
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(self.proc.stdout.readline()))
        reader.start()
        reader.join(timeout)
        return out[0] if out else ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Sends `sig` and waits; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        try:
            rc = self.proc.wait(timeout)
        finally:
            self._log.close()
        return rc

    def stdout_rest(self) -> str:
        return self.proc.stdout.read() if self.proc.stdout else ""
