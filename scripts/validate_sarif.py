#!/usr/bin/env python3
"""Validate a SARIF log against the official SARIF 2.1.0 JSON schema.

usage: validate_sarif.py SCHEMA.json LOG.sarif

Exit 0 valid, 1 invalid (each error printed with its JSON path), 77 when the
jsonschema module is missing (Debian: python3-jsonschema), 2 usage.
"""
import json
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError:
        print("validate_sarif: python3-jsonschema is not installed", file=sys.stderr)
        return 77
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(argv[2], encoding="utf-8") as f:
        log = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    errors = sorted(cls(schema).iter_errors(log), key=lambda e: list(e.path))
    for e in errors:
        path = "/".join(str(p) for p in e.path) or "(root)"
        print(f"{argv[2]}: {path}: {e.message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
