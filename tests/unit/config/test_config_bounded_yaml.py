"""Config YAML is bounded: aliases, nesting, size, duplicate keys and tags are refused in one line.

Every case here once hung the master, blew its memory, crashed it with a 500 or silently merged
input (issue 11). Each refusal must be a `ConfigError` of exactly one line that names the limit.
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from trainyard.config import _yaml_safe, load_config_data, load_config_text
from trainyard.config._limits import (
    MAX_CONFIG_BYTES,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_YAML_DEPTH,
)
from trainyard.errors import ConfigError

BASE = (
    "entrypoint: model_def:MyTrial\nsearcher: {name: single, metric: m, max_length: {batches: 5}}\n"
)

BILLION_LAUGHS = (
    BASE
    + "data:\n"
    + "".join(
        f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" if i else '  l0: &l0 ["lol"]\n'
        for i in range(10)
    )
)


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every case on both parsers: libyaml where PyYAML was built with it, PyYAML's own else."""
    if request.param == "pure-python":
        monkeypatch.setattr(_yaml_safe, "_FAST", None)
    elif _yaml_safe._FAST is None:
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


def one_line(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_billion_laughs_is_refused_before_anything_is_built() -> None:
    assert len(BILLION_LAUGHS) < 1100
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    line = one_line(BILLION_LAUGHS)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert "expands to more than 1.0 MB once its aliases (*name) are expanded" in line
    assert line.startswith("config: at line ")
    assert grown_kb < 50_000  # the expanded document would be gigabytes


def test_a_few_aliases_within_budget_still_load() -> None:
    text = BASE + "data:\n  a: &x {k: [1, 2, 3]}\n  b: *x\n  c: *x\n"
    assert load_config_text(text).data == {"a": {"k": [1, 2, 3]}} | {
        "b": {"k": [1, 2, 3]},
        "c": {"k": [1, 2, 3]},
    }


def test_a_recursive_alias_is_refused() -> None:
    line = one_line(BASE + "data: &loop\n  me: *loop\n")
    assert "an alias refers to a map or list that contains it" in line


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 50_000])
@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_nesting_is_refused_not_a_recursion_error(depth: int, style: str) -> None:
    if style == "flow":
        text = BASE + "data:\n  x: " + "[" * depth + "]" * depth + "\n"
    else:  # block maps: two spaces of indent per level, so a few hundred levels stay small
        text = BASE + "data:\n" + "".join(f"{' ' * (i + 1)}k:\n" for i in range(min(depth, 400)))
    line = one_line(text)
    assert f"nested more than {MAX_YAML_DEPTH} deep" in line


def test_aliases_cannot_nest_past_the_depth_limit() -> None:
    chain = "".join(f"  a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, MAX_YAML_DEPTH + 2))
    line = one_line(BASE + "data:\n  a0: &a0 [x]\n" + chain)
    assert f"nested more than {MAX_YAML_DEPTH} deep once aliases are expanded" in line


def test_nesting_up_to_the_limit_loads() -> None:
    depth = MAX_YAML_DEPTH - 3  # the document map and `data` and its key count too
    config = load_config_text(BASE + "data:\n  x: " + "[" * depth + "]" * depth + "\n")
    assert config.data["x"] is not None


def test_text_over_the_size_limit_is_refused_before_parsing() -> None:
    text = BASE + "data:\n  blob: '" + "x" * MAX_CONFIG_BYTES + "'\n"
    assert (
        one_line(text) == "config: is 1.0 MB; the limit is 1.0 MB: keep large data out of "
        "the config (put it in the model directory)"
    )


def test_a_duplicate_key_names_the_key() -> None:
    line = one_line(BASE + "name: a\nname: b\n")
    assert (
        line == "config: invalid YAML at line 4, column 1: duplicate key 'name'; keep one of them"
    )


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/object:pathlib.Path {{}}",
        "!custom {{a: 1}}",
    ],
)
def test_python_and_unknown_tags_never_construct_objects(tag: str, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    line = one_line(BASE + "data:\n  x: " + tag.format(marker=marker) + "\n")
    assert line.startswith("config: invalid YAML at line 4, column 6: ")
    assert "could not determine a constructor for the tag" in line
    assert not marker.exists()


def test_binary_values_are_refused() -> None:
    line = one_line(BASE + "data:\n  x: !!binary aGVsbG8=\n")
    assert (
        line == "config: at line 4, column 6: tag !!binary is not allowed in a config; write text"
    )


def test_a_long_name_is_refused_with_its_length_not_its_text() -> None:
    line = one_line(BASE + f"name: {'n' * 500_000}\n")
    assert line == f"name: is 500,000 characters; the limit is {MAX_NAME_CHARS}"


def test_names_up_to_the_limit_load() -> None:
    assert load_config_text(BASE + f"name: {'n' * MAX_NAME_CHARS}\n").name == "n" * MAX_NAME_CHARS


def test_a_long_description_is_refused() -> None:
    line = one_line(BASE + f"name: x\ndescription: {'d' * (MAX_DESCRIPTION_CHARS + 1)}\n")
    assert line == f"description: is 10,001 characters; the limit is {MAX_DESCRIPTION_CHARS:,}"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("searcher.max_length.batches", "1e30"),
        ("searcher.max_length.batches", "9223372036854775808"),
        ("max_restarts", "99999999999999999999"),
        ("resources.priority", "-99999999999999999999"),
    ],
)
def test_integers_that_cannot_fit_a_bigint_name_their_field(field: str, value: str) -> None:
    section, _, rest = field.partition(".")
    if rest == "max_length.batches":
        text = BASE.replace("batches: 5", f"batches: {value}")
    elif rest:
        text = BASE + f"{section}: {{{rest}: {value}}}\n"
    else:
        text = BASE + f"{section}: {value}\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(text)
    assert any(line.startswith(f"{field}: ") for line in str(caught.value).splitlines())


def test_the_largest_bigint_is_accepted() -> None:
    text = BASE.replace("batches: 5", f"batches: {2**63 - 1}")
    assert load_config_text(text).searcher.max_length.value == 2**63 - 1  # type: ignore[union-attr]


def test_free_form_data_may_hold_any_integer() -> None:
    config = load_config_data(
        {**load_config_text(BASE).model_dump(mode="json"), "data": {"x": 10**30}}
    )
    assert config.data == {"x": 10**30}


@pytest.mark.parametrize(
    ("hparam", "line"),
    [
        (
            "{type: int, minval: 0, maxval: 9223372036854775806}",
            "hyperparameters.lr.maxval: must be between -2^53 and 2^53 for an int hyperparameter, "
            "got 9223372036854775806",
        ),
        (
            "{type: log, minval: -3, maxval: 5000}",
            "hyperparameters.lr.maxval: base ** maxval (10.0 ** 5000.0) is not a finite number; "
            "lower it",
        ),
    ],
)
def test_hyperparameter_ranges_no_searcher_can_sample_are_refused(hparam: str, line: str) -> None:
    assert one_line(BASE + f"hyperparameters:\n  lr: {hparam}\n") == line


def test_bracket_rungs_are_bounded() -> None:
    text = BASE.replace(
        "{name: single, metric: m, max_length: {batches: 5}}",
        "{name: adaptive_asha, metric: m, max_trials: 4, max_length: {batches: 5}, "
        "bracket_rungs: [1000000000]}",
    )
    assert one_line(text).startswith("searcher.bracket_rungs: at most 64 brackets")
