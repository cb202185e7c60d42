"""Entity tags and the conditional request headers (RFC 9110 §8.8.3, §13.1).

A card's ETag is its `version`, quoted: `"3"`; a board's adds the caller's role,
`"3-editor"`, because its JSON shows that role (see `schemas.board.board_entity_tag`).
Each is a strong tag: it changes with everything the JSON the caller gets shows,
so one tag is one exact representation. `If-Match` uses the strong comparison the RFC
requires (a weak `W/"3"` never matches); `If-None-Match` the weak one.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from fastapi import HTTPException, Response, status
from pydantic import BaseModel

from kanban_api.errors import MalformedHeaderError, PreconditionFailedError

# The header grammar: `*`, or a comma-separated list of (optionally weak) quoted tags.
# Tags are printable ASCII (the RFC also allows obs-text, which no client of ours sends).
_STAR = r"[ \t]*\*[ \t]*"
_MEMBER = r'[ \t]*(?:W/)?"[\x21\x23-\x7e]*"[ \t]*'
_LIST = rf"(?:{_MEMBER},)*{_MEMBER},?"
_TAG = re.compile(r'(W/)?"([^"]*)"')
# The same grammar for the OpenAPI schema (ECMA-262), so clients and fuzzers know it.
ETAGS_PATTERN = rf"^(?:{_STAR}|{_LIST})$"


class Tagged(Protocol):
    @property
    def entity_tag(self) -> str:
        """The opaque part of the resource's ETag (unquoted), as this caller sees it."""
        ...


T = TypeVar("T", bound=Tagged)


@dataclass(frozen=True)
class EntityTag:
    opaque: str
    weak: bool


def format_etag(opaque: str | int) -> str:
    return f'"{opaque}"'


def parse_etags(value: str, *, name: str) -> Literal["*"] | list[EntityTag]:
    """`*` or the listed tags; anything else is a client bug, answered 400."""
    if re.fullmatch(_STAR, value):
        return "*"
    if not re.fullmatch(_LIST, value):
        raise MalformedHeaderError(name)
    return [EntityTag(opaque=match[2], weak=match[1] is not None) for match in _TAG.finditer(value)]


def require_if_match(
    if_match: str | None, *, tag: str, current: Callable[[], BaseModel], what: str
) -> None:
    """Refuse a change made against an outdated copy: 412 with the resource as it is now.

    Without `If-Match` the change goes through (last write wins), as the seed's
    clients expect. The caller must hold the row (locked, or in a serialized
    transaction) from this check to its write, so nobody slips in between.
    """
    if if_match is None:
        return
    tags = parse_etags(if_match, name="If-Match")
    if tags == "*" or any(not sent.weak and sent.opaque == tag for sent in tags):
        return
    raise PreconditionFailedError(
        f"The {what} has changed since you read it; `current` is how it is now",
        current=current().model_dump(mode="json"),
        etag=format_etag(tag),
    )


def check_if_none_match(if_none_match: str | None, *, tag: str) -> None:
    """Answer 304 Not Modified, without a body, when the client's copy is current."""
    if if_none_match is None:
        return
    tags = parse_etags(if_none_match, name="If-None-Match")
    if tags == "*" or any(sent.opaque == tag for sent in tags):
        raise HTTPException(status.HTTP_304_NOT_MODIFIED, headers={"ETag": format_etag(tag)})


def with_etag(response: Response, resource: T) -> T:
    """Set the ETag header for a single resource about to be answered."""
    response.headers["ETag"] = format_etag(resource.entity_tag)
    return resource
