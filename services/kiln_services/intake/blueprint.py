"""The intake's Blueprint: flask-smorest's, with its request parser.

The parser reads JSON as webargs does it, text/csv bodies for posting results, and answers 415
for any other body.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import flask
import marshmallow as ma
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser

from kiln_services.intake.base_schemas import CsvRows
from kiln_services.intake.csv_io import parse_csv
from kiln_services.intake.errors import ApiProblem, InvalidRequest

CSV_MIMETYPES = ("text/csv", "application/csv")
# The endpoints whose body may be text/csv (results as LIMS export them, candidate tables).
CSV_ENDPOINTS = frozenset({"results.Results", "candidates.Candidates"})


def is_json(mimetype: str) -> bool:
    """True for application/json and the +json media types."""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def unsupported(mimetype: str, accepted: tuple[str, ...]) -> ApiProblem:
    """A 415 problem naming what the endpoint accepts."""
    return ApiProblem(
        415,
        "Unsupported Media Type",
        f"a body of type {mimetype or 'unknown'!r} is not accepted here; send "
        + " or ".join(accepted),
        errors={"Content-Type": [f"use {' or '.join(accepted)}"]},
        kind="unsupported-media-type",
    )


def _bad_json(detail: str) -> ApiProblem:
    return ApiProblem(400, "Bad Request", detail, errors={"body": [detail]}, kind="invalid-json")


@functools.cache
def schema_instance(schema_class: type[ma.Schema]) -> ma.Schema:
    """One instance per schema class, shared by every request.

    webargs would build a new instance per request from a class (copying every declared field,
    then a nested schema on first use): a third of the intake's CPU per posted result
    (bench/intake.py). A marshmallow schema keeps no per-load state, so an instance may serve
    concurrent requests; nothing here sets its `context`.
    """
    return schema_class()


class KilnParser(FlaskParser):
    """A text/csv body loads as {"csv": [rows of raw strings]}; the view maps columns to fields.

    A body of any other non-JSON media type is a 415, never silently ignored. Schemas given as
    classes are instantiated once (`schema_instance`).
    """

    def _get_schema(self, argmap: Any, req: flask.Request) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return schema_instance(argmap)
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: flask.Request) -> Any:
        mimetype = req.mimetype or ""
        csv_ok = req.endpoint in CSV_ENDPOINTS
        if mimetype in CSV_MIMETYPES and csv_ok:
            try:
                text = req.get_data(cache=True).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InvalidRequest({"body": ["the CSV body is not UTF-8 text"]}) from exc
            return {"csv": CsvRows(parse_csv(text))}
        if is_json(mimetype):
            try:
                data = super()._raw_load_json(req)
            except RecursionError as exc:  # json.loads on e.g. 100,000 nested arrays
                raise _bad_json("the JSON body is nested too deeply to be a Kiln request") from exc
            try:
                # "\ud800" is valid JSON but no text: it could be neither stored nor sent back.
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _bad_json(
                    "the JSON body has an unpaired surrogate escape (e.g. \\ud800): not text"
                ) from exc
            except (TypeError, ValueError):
                pass  # webargs' "missing" marker and the like: not text anyway
            return data
        if not req.get_data(cache=True):
            return core.missing  # no body at all: the schema says whether that is fine
        accepted = ("application/json", "text/csv") if csv_ok else ("application/json",)
        raise unsupported(mimetype, accepted)


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint with the CSV-aware parser."""

    ARGUMENTS_PARSER = KilnParser()
