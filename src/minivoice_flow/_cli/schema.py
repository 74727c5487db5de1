"""``minivoice-flow schema``: print the JSON Schema (draft 2020-12) of the answer_url payload."""

from __future__ import annotations

import argparse
import sys

from minivoice_flow._cli import EXIT_OK
from minivoice_flow._generate.schema import schema_text


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "The schema checks every field rule; the ordering rules, which no schema can express, "
        "are listed in its description. A copy is committed as docs/answer_url.schema.json."
    )


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_text())
    return EXIT_OK
