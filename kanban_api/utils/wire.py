"""How answers built from plain dicts are encoded (orjson), byte for byte as pydantic's.

`OPT_UTC_Z` writes UTC as `Z`, as pydantic does. `OPT_NAIVE_UTC` reads a naive datetime
as UTC: the hot reads (reads/) take timestamps as the driver gives them, and SQLite's
have no zone although every stored timestamp is UTC (models.base.UTCDateTime).
"""

import orjson

WIRE_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
