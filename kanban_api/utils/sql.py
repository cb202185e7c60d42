"""SQL functions spelled per database, where SQLAlchemy's portable ones fall short."""

from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy import String
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction


class DialectFunction(GenericFunction[str]):
    """A text-valued function whose SQL each subclass writes out per database.

    `templates` maps a dialect name (postgresql, sqlite) to the SQL, with `{}`
    standing for the function's arguments.
    """

    type = String()
    inherit_cache = True
    templates: ClassVar[Mapping[str, str]] = {}


@compiles(DialectFunction)
def _render(element: DialectFunction, compiler: SQLCompiler, **kw: Any) -> str:
    template = element.templates.get(compiler.dialect.name)
    if template is None:
        raise CompileError(f"{type(element).__name__} has no SQL for {compiler.dialect.name}")
    return template.format(compiler.process(element.clauses, **kw))
