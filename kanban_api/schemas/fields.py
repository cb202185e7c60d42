"""Field types with the limits every request body shares."""

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints


def _no_nul(value: str) -> str:
    """NUL bytes cannot be stored by PostgreSQL and are never meaningful in text."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Title = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_nul)]
Description = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_no_nul)]
LabelName = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]
Email = Annotated[EmailStr, StringConstraints(max_length=254)]
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

Password = Annotated[
    str,
    StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH),
    AfterValidator(_no_nul),
]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
