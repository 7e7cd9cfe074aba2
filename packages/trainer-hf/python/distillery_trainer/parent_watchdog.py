"""Ends the trainer when the worker that spawned it is gone (killed with SIGKILL, say), so an
orphaned trainer never keeps training beside the run's next attempt. Linux re-parents an orphan,
which changes os.getppid(). The worker passes its pid in DISTILLERY_PARENT_PID."""

from __future__ import annotations

import os
import threading
import time


def start_parent_watchdog(interval_s: float = 0.5) -> None:
    # set by the worker; under `accelerate launch` the parent is the launcher, so watch for a
    # change of whatever the parent was at start rather than for the worker's own pid
    if not os.environ.get("DISTILLERY_PARENT_PID"):
        return
    parent = os.getppid()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(137)
            time.sleep(interval_s)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
