"""Webhooks: a board's change feed POSTed to its subscribers, signed, in order, at least once.

targets.py refuses unsafe URLs, signing.py makes Standard Webhooks secrets and
signatures, queue.py claims due deliveries and records their outcome in the database,
sender.py sends them from each worker's background task (started by `AppState.start`).
"""
