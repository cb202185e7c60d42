"""Field types with the limits every request body shares."""

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from kanban_api.limits import (
    DESCRIPTION_MAX,
    EMAIL_MAX,
    LABEL_NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TITLE_MAX,
)


def _no_nul(value: str) -> str:
    """NUL bytes cannot be stored by PostgreSQL and are never meaningful in text."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# The rule above, told to the OpenAPI schema (and so to generated clients and fuzzers).
_NO_NUL_DOC = Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})


Title = Annotated[
    str, StringConstraints(min_length=1, max_length=TITLE_MAX), AfterValidator(_no_nul), _NO_NUL_DOC
]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(_no_nul), _NO_NUL_DOC
]
LabelName = Annotated[
    str, StringConstraints(max_length=LABEL_NAME_MAX), AfterValidator(_no_nul), _NO_NUL_DOC
]
Email = Annotated[EmailStr, StringConstraints(max_length=EMAIL_MAX)]
Password = Annotated[
    str,
    StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX),
    AfterValidator(_no_nul),
    _NO_NUL_DOC,
]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]

# Login is lenient on purpose: accounts imported from the seed predate today's password rules.
LoginUsername = Annotated[
    str, StringConstraints(min_length=1, max_length=EMAIL_MAX), AfterValidator(_no_nul), _NO_NUL_DOC
]
LoginPassword = Annotated[
    str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_no_nul), _NO_NUL_DOC
]
