"""The JSON Schema of a progress export, and a small compiled checker for the subset it uses.

The schema dict below is the one published as docs/progress.schema.json (a test keeps the two
equal). The checker compiles it once into closures, so a million reviews validate in about a
second; a keyword it does not implement is an error at compile time, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

SCHEMA_NAME = "cmqprep-progress"
SCHEMA_VERSION = 1
MAX_REVIEWS = 3_000_000  # the file-size limit binds first (about 190 bytes a review)
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
_KEY = {"type": "string", "minLength": 1, "maxLength": 64}
_MS = {"type": "integer", "minimum": 0, "maximum": MAX_MS}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 1_000_000_000}
_SHARE = {"type": "number", "minimum": 0, "maximum": 1}
_SHARE_OR_NULL = {"type": ["number", "null"], "minimum": 0, "maximum": 1}


def _obj(props: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "required": [k for k in props if k not in optional], "properties": props}


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "cmqprep progress export, schema version 1",
    "description": "See docs/progress-format.md for the meaning of every field.",
    **_obj({
        "schema": {"const": SCHEMA_NAME},
        "schema_version": {"const": SCHEMA_VERSION},
        "app_version": {"type": "string", "minLength": 1, "maxLength": 32},
        "exported_at": {"type": "string",
                        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"},
        "kind": {"enum": ["full", "summary"]},
        "member": _obj({"id": _ID, "name": {"type": "string", "minLength": 1,
                                            "maxLength": 64}}),
        "packs": {"type": "array", "maxItems": 200, "items": _obj({
            "key": _KEY, "version": {"type": ["string", "null"], "maxLength": 64}})},
        "areas": {"type": "array", "maxItems": 200, "items": {"$ref": "#/$defs/area"}},
        "activity": _obj({
            "reviews": _COUNT,
            "first_review_ms": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_MS},
            "last_review_ms": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_MS},
            "streak_days": _COUNT,
        }),
        "attempts": {"type": "array", "maxItems": 100_000, "items": {"$ref": "#/$defs/attempt"}},
        "reviews": {"type": "array", "maxItems": MAX_REVIEWS, "items": {"$ref": "#/$defs/review"}},
    }, optional=("reviews",)),
    # A full export carries the review log; a summary-only export must not.
    "if": {"properties": {"kind": {"const": "full"}}},
    "then": {"required": ["reviews"]},
    "else": {"not": {"required": ["reviews"]}},
    "$defs": {
        "area": _obj({
            "code": {"type": "string", "minLength": 1, "maxLength": 64},
            "title": {"type": "string", "maxLength": 1000},
            "weight": _SHARE,
            "exam_questions": _COUNT,
            "items": _COUNT,
            "seen": _COUNT,
            "mastered": _COUNT,
            "recall_now": _SHARE_OR_NULL,
            "readiness": _SHARE,
            "readiness_low": _SHARE,
            "readiness_high": _SHARE,
            "quiz_answers": _COUNT,
            "quiz_accuracy": _SHARE_OR_NULL,
            "recent_answers": _COUNT,
            "recent_accuracy": _SHARE_OR_NULL,
        }),
        "attempt": _obj({
            "id": _ID,
            "kind": {"enum": ["quiz", "exam"]},
            "mode": {"enum": ["study", "exam"]},
            "started_ms": _MS,
            "submitted_ms": _MS,
            "used_ms": _MS,
            "correct": _COUNT,
            "scored": _COUNT,
            "areas": {"type": "object", "maxProperties": 200,
                      "propertyNames": {"maxLength": 64},
                      "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2,
                                               "items": _COUNT}},
        }),
        "review": _obj({
            "id": _ID,
            "pack": _KEY,
            "item": _KEY,
            "at_ms": _MS,
            "rating": {"enum": [1, 2, 3, 4]},
            "duration_ms": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000_000},
            "source": {"enum": ["study", "quiz", "exam"]},
            "state_before": {"enum": [0, 1, 2, 3]},
            "chosen": {"type": ["integer", "null"], "minimum": 0, "maximum": 25},
            "correct": {"type": ["boolean", "null"]},
        }),
    },
}

# ---- the checker ----------------------------------------------------------------------------

Path = tuple[str | int, ...]
Failure = tuple[Path, str]
Check = Callable[[Any], "Failure | None"]

_ANNOTATIONS = {"$schema", "title", "description", "$defs", "$comment"}
_TYPES: dict[str, Callable[[Any], bool]] = {
    # bool is an int in Python but never a JSON number; integers must be written without a
    # fraction (1.0 is refused), which is stricter than JSON Schema but what cmqprep writes.
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) in (int, float),
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
}


def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """A schema pattern as Python compiles it, except that a final $ means the very end (as in
    JSON Schema's ECMA-262 dialect), not "before a trailing newline" as in Python."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern, re.ASCII)  # \d and \w as in ECMA-262: ASCII only


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def compile_schema(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Check:
    """A function returning None for a valid value, else (path, message) of the first problem."""
    root = root if root is not None else schema
    unknown = set(schema) - _ANNOTATIONS - _KEYWORDS
    if unknown:
        raise ValueError(f"schema keyword(s) not supported: {sorted(unknown)}")
    checks = [build(schema, root) for keys, build in _BUILDERS if keys & schema.keys()]
    if not checks:
        return _accept
    if len(checks) == 1:
        return checks[0]

    def check_all(v: Any) -> Failure | None:
        for c in checks:
            failure = c(v)
            if failure is not None:
                return failure
        return None
    return check_all


def _accept(v: Any) -> Failure | None:
    return None


def _ref(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    ref = schema["$ref"]
    if not ref.startswith("#/$defs/"):
        raise ValueError(f"only local $defs references are supported, not {ref}")
    return compile_schema(root["$defs"][ref.removeprefix("#/$defs/")], root)


def _type(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    tests = [_TYPES[n] for n in names]
    wanted = " or ".join(names)

    def check(v: Any) -> Failure | None:
        if any(t(v) for t in tests):
            return None
        return (), f"{_show(v)} is not {wanted}"
    return check


def _const(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    want = schema["const"]
    return lambda v: None if v == want and type(v) is type(want) else ((), f"{_show(v)} is not "
                                                                           f"{want!r}")


def _enum(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    values = list(schema["enum"])
    names = ", ".join(repr(x) for x in values)

    def check(v: Any) -> Failure | None:
        # Compared with their types: True is not 1, and 1.0 is not 1 (see "integer" above).
        if any(type(v) is type(x) and v == x for x in values):
            return None
        return (), f"{_show(v)} is not one of {names}"
    return check


def _bounds(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    lo, hi = schema.get("minimum"), schema.get("maximum")

    def check(v: Any) -> Failure | None:
        if type(v) not in (int, float):
            return None
        if lo is not None and v < lo:
            return (), f"{v} is below the minimum {lo}"
        if hi is not None and v > hi:
            return (), f"{v} is above the maximum {hi}"
        return None
    return check


def _length(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    pattern = ecma_pattern(schema["pattern"]) if "pattern" in schema else None

    def check(v: Any) -> Failure | None:
        if type(v) is not str:
            return None
        if len(v) < lo:
            return (), "is empty" if lo == 1 else f"is shorter than {lo} characters"
        if hi is not None and len(v) > hi:
            return (), f"is longer than {hi} characters"
        if pattern is not None and not pattern.search(v):
            return (), f"{_show(v)} does not match {pattern.pattern}"
        return None
    return check


def _object(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    props = {k: compile_schema(s, root) for k, s in schema.get("properties", {}).items()}
    required = list(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = compile_schema(extra, root) if isinstance(extra, dict) else None
    names = compile_schema(schema["propertyNames"], root) if "propertyNames" in schema else None
    max_props = schema.get("maxProperties")
    allowed = set(props)

    def check(v: Any) -> Failure | None:
        if type(v) is not dict:
            return None
        if max_props is not None and len(v) > max_props:
            return (), f"has more than {max_props} members"
        for k in required:
            if k not in v:
                return (), f"lacks the required member {k!r}"
        if extra is False and not v.keys() <= allowed:
            return (), f"has an unknown member {sorted(set(v) - allowed)[0]!r}"
        for k, value in v.items():
            c = props.get(k, extra_check)
            if names is not None and (failure := names(k)) is not None:
                return (k,), f"member name {failure[1]}"
            if c is not None and (failure := c(value)) is not None:
                return (k, *failure[0]), failure[1]
        return None
    return check


def _array(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    item = compile_schema(schema["items"], root) if "items" in schema else None
    ok = fast_predicate(schema["items"], root) if "items" in schema else None
    lo, hi = schema.get("minItems", 0), schema.get("maxItems")

    def check(v: Any) -> Failure | None:
        if type(v) is not list:
            return None
        if len(v) < lo:
            return (), f"has fewer than {lo} entries"
        if hi is not None and len(v) > hi:
            return (), f"has more than {hi} entries"
        if item is not None and ok is not None:
            for i, x in enumerate(v):
                if not ok(x):  # the quick yes/no first; the located message only on failure
                    failure = item(x)
                    assert failure is not None, "fast predicate and checker disagree"
                    return (i, *failure[0]), failure[1]
        return None
    return check


def _conditional(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    if "if" not in schema:
        return _accept  # "then" and "else" mean nothing without "if"
    test = compile_schema(schema["if"], root)
    then = compile_schema(schema["then"], root) if "then" in schema else None
    other = compile_schema(schema["else"], root) if "else" in schema else None

    def check(v: Any) -> Failure | None:
        branch = then if test(v) is None else other
        return branch(v) if branch is not None else None
    return check


def _not(schema: dict[str, Any], root: dict[str, Any]) -> Check:
    inner = compile_schema(schema["not"], root)
    return lambda v: ((), "matches what is not allowed here") if inner(v) is None else None


_BUILDERS: tuple[tuple[frozenset[str], Callable[[dict[str, Any], dict[str, Any]], Check]], ...] = (
    (frozenset({"$ref"}), _ref),
    (frozenset({"type"}), _type),
    (frozenset({"const"}), _const),
    (frozenset({"enum"}), _enum),
    (frozenset({"minimum", "maximum"}), _bounds),
    (frozenset({"minLength", "maxLength", "pattern"}), _length),
    (frozenset({"properties", "required", "additionalProperties", "propertyNames",
                "maxProperties"}), _object),
    (frozenset({"items", "minItems", "maxItems"}), _array),
    (frozenset({"if", "then", "else"}), _conditional),
    (frozenset({"not"}), _not),
)
_KEYWORDS = frozenset().union(*(keys for keys, _ in _BUILDERS))


# ---- fast yes/no predicates -----------------------------------------------------------------
# The checker above builds a located message; a predicate only answers "valid?". For the
# entries of long arrays (a million reviews) it is generated as one Python expression from the
# schema, so a review costs one function call instead of dozens. Only the schema's own constants
# go into the generated source (as names bound in its namespace, never as text), and a shape
# without an expression form falls back to the checker, so the two always agree.

_NUMBER_TYPES = (int, float)


class _Codegen:
    def __init__(self, root: dict[str, Any]):
        self.root = root
        self.names: dict[str, Any] = {"_NUM": _NUMBER_TYPES, "_NONE": None}

    def bind(self, value: Any) -> str:
        name = f"_c{len(self.names)}"
        self.names[name] = value
        return name

    def expr(self, schema: dict[str, Any], x: str) -> str:
        if set(schema) == {"$ref"}:
            return self.expr(self.root["$defs"][schema["$ref"].removeprefix("#/$defs/")], x)
        keys = schema.keys() - _ANNOTATIONS
        out = None
        if keys and keys <= {"enum"} | {"const"}:
            out = self._enum(schema, x)
        elif keys == {"type", "properties", "required", "additionalProperties"} \
                and schema["additionalProperties"] is False and schema["type"] == "object":
            out = self._object(schema, x)
        elif "type" in keys and keys <= {"type", "minimum", "maximum", "minLength", "maxLength",
                                         "pattern"}:
            out = self._typed(schema, x)
        if out is None:
            check = self.bind(compile_schema(schema, self.root))
            out = f"({check}({x}) is None)"
        return out

    def _enum(self, schema: dict[str, Any], x: str) -> str | None:
        values = schema["enum"] if "enum" in schema else [schema["const"]]
        if not all(isinstance(v, (str, int, float, bool)) for v in values):
            return None
        kinds = self.bind(frozenset(type(v) for v in values))
        allowed = self.bind(frozenset((type(v), v) for v in values))
        return f"(type({x}) in {kinds} and (type({x}), {x}) in {allowed})"

    def _typed(self, schema: dict[str, Any], x: str) -> str | None:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        nullable = "null" in names
        rest = [n for n in names if n != "null"]
        if len(rest) != 1:
            return None
        name = rest[0]
        if name == "string":
            lo, hi = self.bind(schema.get("minLength", 0)), self.bind(schema.get("maxLength",
                                                                                   float("inf")))
            body = f"type({x}) is str and {lo} <= len({x}) <= {hi}"
            if schema.get("pattern") == "^[0-9a-f]{32}$":  # ids: a C-level test, same answer
                body += f" and len({x}) == 32 and not {x}.strip('0123456789abcdef')"
            elif "pattern" in schema:
                body += f" and {self.bind(ecma_pattern(schema['pattern']).search)}({x}) is not None"
        elif name in ("integer", "number"):
            lo = self.bind(schema.get("minimum", float("-inf")))
            hi = self.bind(schema.get("maximum", float("inf")))
            kind = "type({x}) is int" if name == "integer" else "type({x}) in _NUM"
            body = kind.format(x=x) + f" and {lo} <= {x} <= {hi}"
        elif name == "boolean":
            body = f"type({x}) is bool"
        else:
            return None
        return f"({x} is None or {body})" if nullable else f"({body})"

    def _object(self, schema: dict[str, Any], x: str) -> str | None:
        props = schema["properties"]
        if set(schema["required"]) != set(props):
            return None
        keys = self.bind(frozenset(props))
        parts = [f"type({x}) is dict", f"{x}.keys() == {keys}"]
        for k, sub in props.items():
            parts.append(self.expr(sub, f"{x}[{self.bind(k)}]"))
        return "(" + " and ".join(parts) + ")"


def fast_predicate(schema: dict[str, Any], root: dict[str, Any]) -> Callable[[Any], bool]:
    gen = _Codegen(root)
    source = f"lambda v: bool({gen.expr(schema, 'v')})"
    return eval(compile(source, "<progress schema predicate>", "eval"), gen.names)  # noqa: S307
