import os
import subprocess
import sys
import time
import unittest
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[1] / "python"


class ParentWatchdogTest(unittest.TestCase):
    def test_orphaned_child_exits(self) -> None:
        # a middle process starts the watched child, prints its pid, then dies with SIGKILL
        child_code = (
            "import time; from distillery_trainer.parent_watchdog import start_parent_watchdog;"
            "start_parent_watchdog(0.1); time.sleep(30)"
        )
        middle_code = (
            "import os, subprocess, sys, signal;"
            f"p = subprocess.Popen([sys.executable, '-c', {child_code!r}], stdout=subprocess.DEVNULL);"
            "print(p.pid, flush=True); import time; time.sleep(1.5); os.kill(os.getpid(), signal.SIGKILL)"
        )
        env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "DISTILLERY_PARENT_PID": "1"}
        out = subprocess.run([sys.executable, "-c", middle_code], env=env, capture_output=True, text=True, timeout=30)
        pid = int(out.stdout.strip())
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, 9)
        self.fail("the orphaned trainer kept running")


if __name__ == "__main__":
    unittest.main()
