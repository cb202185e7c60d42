from pydantic import BaseModel


class ErrorOut(BaseModel):
    """Every error other than a 422 validation error: one human-readable `detail`."""

    detail: str
