"""422 answers in terms of the request: field locations and messages without pydantic's
internal names, and unknown query parameters refused instead of silently ignored."""

from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

# pydantic-core names the member of a union that failed (`function-after[_no_nul(), …]`,
# `constrained-str`, `none`) inside `loc`; none of them is a field of the request.
_UNION_MEMBER_TAGS = frozenset({"none", "str", "int", "float", "bool", "constrained-str"})
# Prefixes pydantic puts before the message of a ValueError or assert raised by a validator.
_MESSAGE_PREFIXES = ("Value error, ", "Assertion failed, ")


def public_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's error list as clients see it: `type`, `loc` and `msg` (plus `ctx` where
    pydantic gives one), without `input`, which would echo passwords back.

    A value that fails every member of an `X | null` field reports one error per member;
    the `null` member's ("Input should be None") is dropped when another remains.
    """
    cleaned = [_public_error(error) for error in errors]
    kept = [error for error, raw in zip(cleaned, errors, strict=True) if not _is_null_member(raw)]
    return kept or cleaned


def _public_error(error: dict[str, Any]) -> dict[str, Any]:
    message: str = error.get("msg", "")
    for prefix in _MESSAGE_PREFIXES:
        message = message.removeprefix(prefix)
    public = {
        "type": error.get("type"),
        "loc": [part for part in error.get("loc", ()) if not _is_union_tag(part)],
        "msg": message,
    }
    context = {
        key: value
        for key, value in error.get("ctx", {}).items()
        if isinstance(value, str | int | float | bool)
    }
    if context:
        public["ctx"] = context
    return public


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and ("[" in part or part in _UNION_MEMBER_TAGS)


def _is_null_member(error: dict[str, Any]) -> bool:
    location = error.get("loc", ())
    return bool(location) and location[-1] == "none" and error.get("type") == "none_required"


class StrictQueryRoute(APIRoute):
    """A route that answers 422 to a query parameter it does not take.

    Checked before the route's dependencies are solved, in its handler, rather than
    as a dependency of every route: FastAPI solving one more dependency costs every
    request more than the check itself (docs/performance.md).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        accepted = _accepted_names(self)

        async def handle_strictly(request: Request) -> Response:
            if request.scope["query_string"]:
                reject_unknown_query_parameters(request, accepted=accepted)
            return await handle(request)

        return handle_strictly


def reject_unknown_query_parameters(request: Request, *, accepted: frozenset[str]) -> None:
    """RequestValidationError (422) with one `extra_forbidden` error per query parameter
    not in `accepted`; its message lists the names the route accepts."""
    unknown = [name for name in request.query_params if name not in accepted]
    if unknown:
        message = (
            f"Unknown query parameter; this endpoint accepts: {', '.join(sorted(accepted))}"
            if accepted
            else "Unknown query parameter; this endpoint takes none"
        )
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": message}
                for name in unknown
            ]
        )


def _accepted_names(route: APIRoute) -> frozenset[str]:
    """The query names a route reads, its own and its dependencies'.

    A parameter declared as a model (`Annotated[CardListQuery, Query()]`) accepts each field
    by its camelCase alias and by its Python name, as the model does.
    """
    return frozenset(_query_names(route.dependant))


def _query_names(dependant: Dependant) -> Iterable[str]:
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for name, info in model.model_fields.items():
                yield name
                if info.alias:
                    yield info.alias
        else:
            yield field.alias
    for dependency in dependant.dependencies:
        yield from _query_names(dependency)
