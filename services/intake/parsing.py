"""Request parsing: JSON as webargs does it, plus text/csv bodies for posting results."""

from __future__ import annotations

from typing import Any

import flask
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from intake.domain import parse_csv
from intake.errors import InvalidRequest

CSV_MIMETYPES = ("text/csv", "application/csv")


class KilnParser(FlaskParser):
    """A text/csv body loads as {"csv": [rows of raw strings]}; the view maps columns to fields."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if req.mimetype in CSV_MIMETYPES:
            try:
                text = req.get_data(cache=True).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InvalidRequest({"body": ["the CSV body is not UTF-8 text"]}) from exc
            return {"csv": parse_csv(text)}
        return super()._raw_load_json(req)


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint with the CSV-aware parser."""

    ARGUMENTS_PARSER = KilnParser()
