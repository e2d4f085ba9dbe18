"""Bounded, safe YAML: what a config may cost to parse is known before it is built.

`parse_config_yaml(text, where)` refuses, each with one `ConfigError` line that names the limit:
text over `MAX_CONFIG_BYTES`; maps and lists nested deeper than `MAX_YAML_DEPTH` (checked while
composing, so 50,000 levels never reach Python's recursion limit); aliases that expand past
`MAX_EXPANDED_BYTES` or refer to themselves (a "billion laughs" block is measured on the node
graph, which aliases share, in time proportional to the text, and refused before anything is
built); a key written twice in one map; and every tag that would build something other than
plain data (`!!python/...` and any unknown tag are never constructed; `!!binary` is refused).
`1e-5` is a float, as in YAML 1.2 and Determined.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from trainyard.config._limits import (
    MAX_CONFIG_BYTES,
    MAX_EXPANDED_BYTES,
    MAX_YAML_DEPTH,
    fmt_bytes,
)
from trainyard.errors import ConfigError

__all__ = ["parse_config_yaml"]


class _LimitError(yaml.YAMLError):
    """A limit of this module, raised inside PyYAML so its position is reported."""

    def __init__(self, message: str, mark: Any = None) -> None:  # PyYAML's or libyaml's Mark
        super().__init__(message)
        self.message = message
        self.mark = mark


_FAST: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
"""libyaml's parser: several times faster than PyYAML's, and it caps nesting itself (1000)."""


class _DepthLimited(yaml.SafeLoader):
    """Pure-Python parsing with the nesting limit applied while composing (used without
    libyaml, whose absence would otherwise leave 50,000 levels to Python's recursion)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _LimitError(
                    f"maps and lists are nested more than {MAX_YAML_DEPTH} deep",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]  # untyped stub
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Rules(yaml.constructor.SafeConstructor):
    """Construction rules of both loaders: duplicate keys and `!!binary` refused."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}; keep one of them", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def refuse_binary(self, node: yaml.Node) -> Any:
        raise _LimitError("tag !!binary is not allowed in a config; write text", node.start_mark)


class _PyLoader(_Rules, _DepthLimited):
    """PyYAML's own parser, for where libyaml is missing."""


_LOADERS: list[Any] = [_PyLoader]  # loader classes mix PyYAML's untyped classmethods
if _FAST is not None:

    class _CLoader(_Rules, _FAST):  # type: ignore[misc, valid-type]  # libyaml, when built
        """libyaml's parser with our construction rules."""

    _LOADERS.append(_CLoader)

for _loader in _LOADERS:
    # `1e-5` is a float, as in YAML 1.2 and Determined (PyYAML alone reads a string).
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )
    _loader.add_constructor("tag:yaml.org,2002:binary", _Rules.refuse_binary)


def parse_config_yaml(text: str, where: str = "config") -> Any:
    """The data of one YAML document, within the limits above; `ConfigError` (one line,
    prefixed with `where`) for invalid YAML or a limit hit. Empty text gives None."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{where}: is {fmt_bytes(size)}; the limit is {fmt_bytes(MAX_CONFIG_BYTES)}: "
            "keep large data out of the config (put it in the model directory)"
        )
    loader: Any = None
    try:
        if _FAST is not None:
            _check_nesting(text, _FAST)
        loader = _LOADERS[-1 if _FAST is not None else 0](text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    except _LimitError as exc:
        raise ConfigError(f"{where}: {_at(exc.mark)}{exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        problem = " ".join(str(exc.problem).split())
        if "maximum nesting depth" in problem:  # libyaml's own cap, met while scanning ahead
            problem = f"maps and lists are nested more than {MAX_YAML_DEPTH} deep"
            raise ConfigError(f"{where}: {_at(exc.problem_mark)}{problem}") from None
        raise ConfigError(f"{where}: invalid YAML {_at(exc.problem_mark)}{problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {' '.join(str(exc).split())}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_nesting(text: str, fast: type[yaml.CSafeLoader]) -> None:
    """Refuse nesting past `MAX_YAML_DEPTH` from libyaml's event stream (no recursion), before
    any node is built."""
    depth = 0
    for event in yaml.parse(text, Loader=fast):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise _LimitError(
                    f"maps and lists are nested more than {MAX_YAML_DEPTH} deep", event.start_mark
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _at(mark: Any) -> str:
    return f"at line {mark.line + 1}, column {mark.column + 1}: " if mark else ""


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a node graph whose tree (aliases expanded) is too big, too deep or infinite.

    Aliases share node objects, so sizes are memoised per node: the walk visits each node once.
    """
    sizes: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def measure(node: yaml.Node) -> tuple[int, int]:
        """(expanded size, height) of `node`."""
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in active:
            raise _LimitError("an alias refers to a map or list that contains it", node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            result = (len(node.value) + 2, 0)
        else:
            active.add(key)
            children = (
                [n for pair in node.value for n in pair]
                if isinstance(node, yaml.MappingNode)
                else list(node.value)
            )
            size, height = 2, 0
            for child in children:
                child_size, child_height = measure(child)
                size += child_size
                height = max(height, child_height + 1)
                if height > MAX_YAML_DEPTH:
                    raise _LimitError(
                        f"maps and lists are nested more than {MAX_YAML_DEPTH} deep once "
                        "aliases are expanded",
                        node.start_mark,
                    )
                if size > MAX_EXPANDED_BYTES:
                    raise _LimitError(
                        f"expands to more than {fmt_bytes(MAX_EXPANDED_BYTES)} once its aliases "
                        "(*name) are expanded; write the values out or use fewer aliases",
                        node.start_mark,
                    )
            active.discard(key)
            result = (size, height)
        sizes[key] = result
        return result

    measure(root)
