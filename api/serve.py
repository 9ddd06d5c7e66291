"""``rtc serve``: one uvicorn worker, or several forked from a parent that opened the store and
built its indexes once, so that the workers share them (copy on write) instead of each
building its own (docs/api.md, "Workers")."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
from typing import Any

from pydantic import SecretStr

from api.app import _warm, create_app
from core.config import Settings, open_configured_store


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    log: dict[str, Any] = {"log_level": "info", "access_log": settings.access_log}
    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port, **log)
        return
    if not settings.session_secret.get_secret_value():
        # one secret for every worker: a login signed by one is honoured by the others
        settings = settings.model_copy(update={"session_secret": SecretStr(secrets.token_urlsafe(32))})
    store = open_configured_store(settings.store, settings)
    shared = store.capabilities.shared_by_forks
    if shared:
        _warm(store)  # built once, here; the workers read these pages of the parent
        store.release()
    else:
        store.close()  # a server store: each worker opens its own connection
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: serves until it is told to stop, then leaves without the parent's cleanup
            code = 0
            try:
                app = create_app(settings, store if shared else None)
                uvicorn.Server(uvicorn.Config(app, **log)).run(sockets=[sock])
            except BaseException:  # printed by uvicorn; the parent sees the code
                code = 1
            os._exit(code)
        children.append(pid)
    sock.close()

    def stop(signum: int, _frame: Any) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):  # a worker that has ended already
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # a terminal's Ctrl-C reaches the workers too: they stop once
    failed = 0
    for pid in children:
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        # uvicorn raises the signal it stopped on again once it has shut down: that is a clean stop
        failed += os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM, -signal.SIGINT)
    if failed:
        raise SystemExit(1)
