import sys

from .cli import main
from .parent_watchdog import start_parent_watchdog

start_parent_watchdog()
sys.exit(main())
