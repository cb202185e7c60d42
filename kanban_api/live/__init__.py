"""Live delivery of board events: fan-out to the streams open in this process and, on
PostgreSQL, LISTEN/NOTIFY so that every worker on every machine hears every commit."""
