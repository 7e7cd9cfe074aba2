"""JSON Schema support for the subset that zod's `toJSONSchema` emits for our schemas.

Uses `jsonschema` when it is installed (Debian: python3-jsonschema); otherwise a small stdlib
validator covering: type, properties, required, additionalProperties (bool or schema),
propertyNames, items, enum, const, oneOf, anyOf, minimum/maximum, exclusiveMinimum/Maximum,
minLength/maxLength, pattern, minItems/maxItems. Both report the first error as (dotted path,
message).
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any, Optional

JsonPath = list  # list[str | int]

_SCHEMA_FILES = {
    "events": "events.schema.json",
    "engine-job": "engine-job.schema.json",
    "run-config": "run-config.schema.json",
}


def schemas_dir() -> Path:
    """packages/core/schemas, or DISTILLERY_SCHEMAS_DIR (the Docker image copies them)."""
    override = os.environ.get("DISTILLERY_SCHEMAS_DIR")
    if override:
        return Path(override)
    # python/distillery_trainer/schema.py -> packages/trainer-hf -> packages/core/schemas
    return Path(__file__).resolve().parents[3] / "core" / "schemas"


_cache: dict = {}


def load_schema(name: str) -> dict:
    if name not in _cache:
        path = schemas_dir() / _SCHEMA_FILES[name]
        try:
            _cache[name] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise RuntimeError(
                f"JSON Schema {path} is missing: run `npm run export-schemas -w packages/core`"
            ) from e
    return _cache[name]


def dotted(path: JsonPath) -> str:
    return ".".join(str(p) for p in path)


def apply_defaults(schema: dict, value: Any) -> Any:
    """Fills missing properties that carry a `default`, recursively (zod's input → output)."""
    if not isinstance(value, dict) or schema.get("type") != "object":
        if isinstance(value, list) and isinstance(schema.get("items"), dict):
            return [apply_defaults(schema["items"], v) for v in value]
        return value
    out = dict(value)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if key in out:
            out[key] = apply_defaults(sub, out[key])
    return out


def _is_type(value: Any, t: str) -> bool:
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if t == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and value == value  # NaN is not a JSON number
    return False


def _first_error(schema: dict, value: Any, path: JsonPath) -> Optional[tuple]:
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_is_type(value, x) for x in types):
            return path, f"expected {' or '.join(types)}, got {_json_type(value)}"
    if "const" in schema and value != schema["const"]:
        return path, f"expected {json.dumps(schema['const'])}"
    if "enum" in schema and value not in schema["enum"]:
        return path, f"must be one of {', '.join(json.dumps(x) for x in schema['enum'])}"
    for key in ("oneOf", "anyOf"):
        if key in schema:
            err = _first_error_of_union(schema[key], value, path, exactly_one=key == "oneOf")
            if err:
                return err
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return path, f"must be ≥ {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return path, f"must be ≤ {schema['maximum']}"
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            return path, f"must be > {schema['exclusiveMinimum']}"
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            return path, f"must be < {schema['exclusiveMaximum']}"
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            return path, f"must have at least {schema['minLength']} character(s)"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return path, f"must have at most {schema['maxLength']} characters"
        # JSON Schema patterns are unanchored searches (zod's regexes carry their own ^…$).
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            return path, f"does not match {schema['pattern']}"
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return path, f"must have at least {schema['minItems']} item(s)"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return path, f"must have at most {schema['maxItems']} items"
        items = schema.get("items")
        if isinstance(items, dict):
            for i, v in enumerate(value):
                err = _first_error(items, v, path + [i])
                if err:
                    return err
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                return path + [key], "is required"
        for key, v in value.items():
            if key in props:
                err = _first_error(props[key], v, path + [key])
            else:
                extra = schema.get("additionalProperties", True)
                if extra is False:
                    err = (path + [key], "is not an allowed property")
                elif isinstance(extra, dict):
                    err = _first_error(extra, v, path + [key])
                else:
                    err = None
            if err:
                return err
            names = schema.get("propertyNames")
            if isinstance(names, dict):
                err = _first_error(names, key, path + [key])
                if err:
                    return err
    return None


def _first_error_of_union(options: list, value: Any, path: JsonPath, exactly_one: bool) -> Optional[tuple]:
    errors = [_first_error(opt, value, path) for opt in options]
    matches = sum(1 for e in errors if e is None)
    if matches == 1 or (matches > 1 and not exactly_one):
        return None
    if matches > 1:
        return path, "matches more than one schema of oneOf"
    # A discriminated union: report the error of the branch whose `type` const matches.
    if isinstance(value, dict):
        for opt, err in zip(options, errors):
            const = opt.get("properties", {}).get("type", {}).get("const")
            if const is not None and value.get("type") == const:
                return err
        if "type" in value:
            return path + ["type"], f"unknown type {json.dumps(value.get('type'))}"
    return errors[0] or (path, "matches no schema")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def first_error_stdlib(schema: dict, value: Any) -> Optional[tuple]:
    """(dotted path, message) of the first violation, or None. Never uses jsonschema."""
    err = _first_error(schema, value, [])
    return None if err is None else (dotted(err[0]), err[1])


def first_error(schema: dict, value: Any) -> Optional[tuple]:
    """(dotted path, message) of the first violation, or None; jsonschema when installed."""
    try:
        import jsonschema  # type: ignore[import-not-found]
    except Exception:
        return first_error_stdlib(schema, value)
    validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    errors = list(validator_cls(schema).iter_errors(value))
    if not errors:
        return None
    best = jsonschema.exceptions.best_match(errors)
    return dotted(_jsonschema_path(best)), best.message


def _jsonschema_path(error) -> JsonPath:
    """jsonschema reports required/additionalProperties at the parent; name the property."""
    path = list(error.absolute_path)
    instance, schema = error.instance, error.schema
    if isinstance(instance, dict):
        if error.validator == "required":
            missing = [k for k in schema.get("required", []) if k not in instance]
            return path + missing[:1]
        if error.validator == "additionalProperties":
            extra = [k for k in instance if k not in schema.get("properties", {})]
            return path + extra[:1]
    return path
