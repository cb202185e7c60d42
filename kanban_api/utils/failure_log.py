"""A failure that repeats (a service down, a loop retrying) logged at most once a while."""

import logging
import math
import time

# While a failure lasts, the log says so at most this often.
REPEAT_LOG_SECONDS = 60


class RepeatedFailureLog:
    """Logs a failure at most once per REPEAT_LOG_SECONDS, with its traceback and how many
    failures went unsaid since the last line: a line per failure would flood the log
    for as long as, say, Redis or the database stays away."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.said_at = -math.inf
        self.unsaid = 0

    def failed(self, message: str) -> None:
        """Call from the `except` block of the failure."""
        now = time.monotonic()
        if now - self.said_at < REPEAT_LOG_SECONDS:
            self.unsaid += 1
            return
        self.logger.warning(
            "%s (%d more such failures since the last line)", message, self.unsaid, exc_info=True
        )
        self.said_at, self.unsaid = now, 0
