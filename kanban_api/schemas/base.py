from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """camelCase on the wire, and both camelCase and snake_case accepted on input."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        from_attributes=True,
    )


class InputModel(ApiModel):
    """Request bodies: unknown fields are rejected so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PatchModel(InputModel):
    """Partial updates: an omitted field is left alone, and `null` only clears nullable fields.

    Fields are declared `T | SkipJsonSchema[None] = None` so the schema documents
    only real values; this check turns an explicit `null` into a 422 instead of
    a NOT NULL violation.
    """

    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _reject_explicit_nulls(self) -> Self:
        for name in self.model_fields_set - self.nullable_fields:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; omit it to leave it unchanged")
        return self
