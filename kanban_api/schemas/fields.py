"""Field types with the limits every request body shares."""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    EmailStr,
    Field,
    StrictBool,
    StringConstraints,
)

from kanban_api.limits import (
    CHECKLIST_TEXT_MAX,
    COLUMN_NAME_MAX,
    COMMENT_BODY_MAX,
    DESCRIPTION_MAX,
    EMAIL_MAX,
    LABEL_NAME_MAX,
    LOGIN_PASSWORD_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    SEARCH_TEXT_MAX,
    TITLE_MAX,
    WIP_LIMIT_MAX,
)
from kanban_api.utils.emails import email_key


def _no_nul(value: str) -> str:
    """NUL bytes cannot be stored by PostgreSQL and are never meaningful in text."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Whitespace as either Python's str.isspace() or ECMA-262's \s counts it, spelled out so
# the server's rule and the schema's pattern (which clients and fuzzers read) agree.
_SPACE = (
    "\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680"
    "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_VISIBLE = re.compile(f"[^{_SPACE}]")


def _not_blank(value: str) -> str:
    """A title or comment of spaces alone shows as nothing at all."""
    if not _VISIBLE.search(value):
        raise ValueError("must contain something other than whitespace")
    return value


def _key_fits(email: str) -> str:
    """Normalizing can lengthen an email (`ß` → `ss`); its key must fit the column too."""
    if len(email_key(email)) > EMAIL_MAX:
        raise ValueError(f"must stay within {EMAIL_MAX} characters once normalized")
    return email


# RFC 3339's date-time (section 5.6), which OpenAPI's `format: date-time` names; the
# offset is required, not optional, since a naive time would be a guess.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339_text(value: object) -> object:
    """Only the text the schema promises: pydantic alone would also take Unix times
    (`0.5`, `"1700000000"`) and times without seconds."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with an offset, such as 2030-01-31T17:00:00Z")


def _json_integer(value: object) -> object:
    """A JSON integer, which JSON Schema says `3.0` is too; not `"3"` or `true`."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ValueError("must be an integer")


def _flag_text(value: object) -> object:
    """A query string's boolean: `true` or `false`, as the schema says, not `1`, `on`, `yes`."""
    if value in ("true", "false"):
        return value
    raise ValueError("must be true or false")


def _to_utc(value: datetime) -> datetime:
    """Stored and answered in UTC; a far-edge date may not survive the conversion."""
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("is out of range once converted to UTC") from error


# The NUL rule above, told to the OpenAPI schema (and so to generated clients and fuzzers).
_NO_NUL_DOC = Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})
# Both rules: no NUL, and one character other than whitespace.
_NOT_BLANK_DOC = Field(json_schema_extra={"pattern": f"^[^\\u0000]*[^\\u0000{_SPACE}][^\\u0000]*$"})


Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_MAX),
    AfterValidator(_no_nul),
    AfterValidator(_not_blank),
    _NOT_BLANK_DOC,
]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(_no_nul), _NO_NUL_DOC
]
LabelName = Annotated[
    str, StringConstraints(max_length=LABEL_NAME_MAX), AfterValidator(_no_nul), _NO_NUL_DOC
]
ColumnName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=COLUMN_NAME_MAX),
    AfterValidator(_no_nul),
    AfterValidator(_not_blank),
    _NOT_BLANK_DOC,
]
WipLimit = Annotated[int, Field(ge=1, le=WIP_LIMIT_MAX), BeforeValidator(_json_integer)]
ChecklistText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CHECKLIST_TEXT_MAX),
    AfterValidator(_no_nul),
    AfterValidator(_not_blank),
    _NOT_BLANK_DOC,
]
CommentBody = Annotated[
    str,
    StringConstraints(min_length=1, max_length=COMMENT_BODY_MAX),
    AfterValidator(_no_nul),
    AfterValidator(_not_blank),
    _NOT_BLANK_DOC,
]
SearchText = Annotated[
    str, StringConstraints(max_length=SEARCH_TEXT_MAX), AfterValidator(_no_nul), _NO_NUL_DOC
]
# A person named in an import document, only matched by `email_key`, never mailed or
# stored (unless quoted as a comment's author): any text that could be an account's email
# will do (an export may name reserved domains), but no NUL, as in all stored text.
DocumentEmail = Annotated[
    str,
    StringConstraints(min_length=1, max_length=EMAIL_MAX),
    AfterValidator(_no_nul),
    _NO_NUL_DOC,
]
Email = Annotated[EmailStr, StringConstraints(max_length=EMAIL_MAX), AfterValidator(_key_fits)]
Password = Annotated[
    str,
    StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX),
    AfterValidator(_no_nul),
    _NO_NUL_DOC,
]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
# An id in a JSON body: a JSON integer only, not `"5"` or `true` as pydantic would allow.
BodyId = Annotated[Id, BeforeValidator(_json_integer)]
# An access token's lifetime in days, a JSON integer too.
ExpiryDays = Annotated[int, Field(ge=1, le=365), BeforeValidator(_json_integer)]
# A feed position in a JSON body: 0 (before the first event) or an event's seq.
BodySeq = Annotated[int, Field(ge=0, le=2**31 - 1), BeforeValidator(_json_integer)]
# A naive datetime is a 422: guessing its zone would silently shift deadlines.
UTCTimestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_to_utc)]
# Booleans: JSON `true`/`false` in bodies (not `0` or `"yes"`), `true`/`false` in query strings.
BodyFlag = StrictBool
QueryFlag = Annotated[bool, BeforeValidator(_flag_text)]

# Login is lenient on purpose: accounts imported from the seed predate today's password
# rules. The bounds still refuse absurd input before any hashing is spent on it.
LoginUsername = Annotated[
    str, StringConstraints(min_length=1, max_length=EMAIL_MAX), AfterValidator(_no_nul), _NO_NUL_DOC
]
LoginPassword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LOGIN_PASSWORD_MAX),
    AfterValidator(_no_nul),
    _NO_NUL_DOC,
]


_Items = TypeVar("_Items", bound=Sequence[Any])


def named_once(attribute: str, what: str) -> AfterValidator:
    """A list validator: 422 when two items have the same `attribute`, since which of
    them should win would only be a guess ("must name each `what` at most once")."""

    def check(items: _Items) -> _Items:
        named = [getattr(item, attribute) for item in items]
        if len(set(named)) != len(named):
            raise ValueError(f"must name each {what} at most once")
        return items

    return AfterValidator(check)
