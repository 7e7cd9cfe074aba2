"""Callable shapes shared by modules that report progress."""

from typing import Callable

# log(message, level) with level in debug | info | warn | error
Log = Callable[[str, str], None]
