"""Board events, recorded with each change and delivered live.

The modules depend on each other one way, top to bottom:

- `feed`: record an event in the transaction of the change, read the log, prune it;
  `tickets`: single-use stream tickets.
- `publish`: how a recorded event leaves its transaction, chosen once at startup
  (`publisher_for`): PostgreSQL NOTIFY, delivered to every worker on commit, or, on
  SQLite, a hand-over to this process's hub after commit.
- `hub`: the streams open in this process, fed by the publisher or by `postgres`,
  the worker's LISTEN connection; `message`: an event on its way, and its NOTIFY form.
- `stream`: one client's server-sent events (replay from `feed`, then the hub's);
  `retention`: the hourly pruning.
"""
