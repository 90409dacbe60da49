"""The models' JSON Schema, read without pydantic: whether a file's data is plainly valid, and a view of it
as the models read it.

`shape.json` is `schema.shape()`: the schema pydantic makes of `spec`, with the defaults that factories
make written out; a test holds it to the models. Importing pydantic and building the models takes longer
than the rest of a one-file `validate`, so a file this check accepts is checked without them. It accepts
less than the models do, never more: only the keywords below, only the exact types YAML reads (a bool is no
number), only numbers a float holds exactly. Anything else goes to the models, which say what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

SHAPE: dict[str, Any] = json.loads(Path(__file__).with_name("shape.json").read_text(encoding="utf-8"))
ASSISTANT_FIELDS: tuple[str, ...] = tuple(SHAPE["properties"])

_EXACT = 2**53  # past it an integer is not exactly a float: left to the models
_NOTES = frozenset({"title", "description", "default", "writeOnly", "deprecated", "examples"})
_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_CHOICES = frozenset({"type", "enum", "const"})
# per JSON type: the Python types that are one (exactly: a bool is no integer) and the keywords it may have
_SCALARS: dict[str, tuple[tuple[type, ...], frozenset[str]]] = {
    "string": ((str,), _CHOICES | {"minLength"}),
    "integer": ((int,), _CHOICES | _BOUNDS),
    "number": ((int, float), _CHOICES | _BOUNDS),
    "boolean": ((bool,), _CHOICES),
    "null": ((type(None),), frozenset({"type"})),
}
_MODEL_KEYS = frozenset({"type", "properties", "required", "additionalProperties"})


class _Node:
    """One schema node: `check` says whether a value is plainly valid there, `read` gives a valid value as
    the models hold it."""

    def check(self, value: Any) -> bool:
        return False  # a node of keywords this module does not know: the models decide

    def read(self, value: Any) -> Any:
        return value


class _Scalar(_Node):
    def __init__(self, node: dict[str, Any]) -> None:
        self.types = _SCALARS[node["type"]][0]
        self.choices = node["enum"] if "enum" in node else [node["const"]] if "const" in node else None
        self.min_length = node.get("minLength", 0)
        self.bounds = [(node[k], k) for k in sorted(_BOUNDS & node.keys())]
        self.number = node["type"] == "number"

    def check(self, value: Any) -> bool:
        kind = type(value)
        if kind not in self.types:
            return False
        if kind is str:
            return len(value) >= self.min_length and _encodable(value) and self._chosen(value)
        if kind is int and not -_EXACT <= value <= _EXACT:
            return False
        return self._chosen(value) and all(_within(value, bound, key) for bound, key in self.bounds)

    def _chosen(self, value: Any) -> bool:
        return self.choices is None or any(type(c) is type(value) and c == value for c in self.choices)

    def read(self, value: Any) -> Any:
        return float(value) if self.number else value  # strict models still make a float of an int


class _List(_Node):
    def __init__(self, items: _Node) -> None:
        self.items = items

    def check(self, value: Any) -> bool:
        return type(value) is list and all(self.items.check(v) for v in value)

    def read(self, value: Any) -> Any:
        return [self.items.read(v) for v in value]


class _Model(_Node):
    def __init__(self, node: dict[str, Any], compile_node: Callable[[dict[str, Any]], _Node]) -> None:
        self.fields: dict[str, _Node] = {k: compile_node(v) for k, v in node["properties"].items()}
        self.defaults = {k: v["default"] for k, v in node["properties"].items() if "default" in v}
        self.required = frozenset(node.get("required", ()))

    def check(self, value: Any) -> bool:
        fields = self.fields
        return (
            type(value) is dict
            and self.required <= value.keys()
            and all(k in fields and fields[k].check(v) for k, v in value.items())
        )

    def read(self, value: Any) -> Plain:
        return Plain(value, self)


class _AnyOf(_Node):
    """A union that exactly one member takes the value of (`X | None`): where several would, pydantic picks
    one by its own rules, so the models decide."""

    def __init__(self, branches: list[_Node]) -> None:
        self.branches = branches

    def check(self, value: Any) -> bool:
        return sum(b.check(value) for b in self.branches) == 1

    def read(self, value: Any) -> Any:
        return next(b for b in self.branches if b.check(value)).read(value)


class _Tagged(_Node):
    """A union chosen by one key's value (pydantic's discriminator)."""

    def __init__(self, key: str, choices: dict[str, _Node]) -> None:
        self.key, self.choices = key, choices

    def check(self, value: Any) -> bool:
        tag = value.get(self.key) if type(value) is dict else None
        return type(tag) is str and tag in self.choices and self.choices[tag].check(value)

    def read(self, value: Any) -> Any:
        return self.choices[value[self.key]].read(value)


class _Ref(_Node):
    def __init__(self, name: str, defs: dict[str, _Node]) -> None:
        self.name, self.defs = name, defs

    def check(self, value: Any) -> bool:
        return self.defs[self.name].check(value)

    def read(self, value: Any) -> Any:
        return self.defs[self.name].read(value)


class Plain:
    """A plainly valid mapping as its model reads it: an absent field holds the model's default, a number
    the model holds as a float is one, and mappings inside are views too. Read-only."""

    __slots__ = ("_data", "_model")

    def __init__(self, data: dict[str, Any], model: _Model) -> None:
        self._data, self._model = data, model

    def __getattr__(self, name: str) -> Any:
        field = self._model.fields.get(name)
        if field is None:
            raise AttributeError(name)
        value = self._data[name] if name in self._data else self._model.defaults.get(name)
        return None if value is None else field.read(value)


def plain(data: Any) -> Plain | None:
    """A view of an assistant file's data when it is plainly valid (the models would accept it as it is),
    else None: the models must look."""
    root = _root()
    return root.read(data) if root.check(data) else None


@lru_cache(maxsize=1)
def _root() -> _Model:
    defs: dict[str, _Node] = {}

    def compile_node(node: dict[str, Any]) -> _Node:
        keys = node.keys() - _NOTES
        if keys == {"$ref"}:
            return _Ref(node["$ref"].rsplit("/", 1)[-1], defs)
        if keys == {"anyOf"}:
            return _AnyOf([compile_node(b) for b in node["anyOf"]])
        if keys == {"oneOf", "discriminator"} and node["discriminator"].keys() == {"propertyName", "mapping"}:
            mapping = node["discriminator"]["mapping"]
            return _Tagged(
                node["discriminator"]["propertyName"],
                {tag: compile_node({"$ref": ref}) for tag, ref in mapping.items()},
            )
        kind = node.get("type")
        if kind == "array" and keys == {"type", "items"}:
            return _List(compile_node(node["items"]))
        if kind == "object" and keys <= _MODEL_KEYS and node.get("additionalProperties") is False:
            return _Model(node, compile_node)
        if kind in _SCALARS and keys <= _SCALARS[kind][1]:
            return _Scalar(node)
        return _Node()

    for name, node in SHAPE["$defs"].items():
        defs[name] = compile_node(node)
    root = compile_node({k: v for k, v in SHAPE.items() if k != "$defs"})
    assert isinstance(root, _Model)
    return root


def _within(value: float, bound: float, key: str) -> bool:
    if key == "minimum":
        return value >= bound
    if key == "maximum":
        return value <= bound
    if key == "exclusiveMinimum":
        return value > bound
    return value < bound


def _encodable(text: str) -> bool:
    """A lone surrogate is no text the models take."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
