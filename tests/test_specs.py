"""Env and agent specs: one canonical text form that round-trips exactly, one canonical JSON form."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.errors import ParameterError
from arena.specs import AgentSpec, EnvSpec, format_value, parse_value

keys = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)  # any unicode, with commas, quotes, brackets, backslashes, spaces
    | st.sampled_from(["pass, bet", "true", "None", "10", "1e5", "(x)", "a=b", 'it\'s "q"', " pad ", "", "é-ü"])
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=8
)
names = st.sampled_from(["fixed", "mix", "llm", "rps-v0", "openspiel:liars_dice", "my.module:Agent", "x-v12"])


@settings(max_examples=400, deadline=None)
@given(name=names, params=st.dictionaries(keys, values, max_size=4))
def test_canonical_text_round_trips(name: str, params: dict) -> None:
    spec = AgentSpec.parse(name).with_params(**params)
    again = AgentSpec.parse(spec.text)
    assert again == spec
    assert again.text == spec.text
    assert again.kwargs() == json.loads(json.dumps(params))  # the values themselves, not a look-alike
    assert AgentSpec.from_json(spec.json) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec


@settings(max_examples=300, deadline=None)
@given(value=values)
def test_values_read_back_as_themselves(value: object) -> None:
    text = format_value(value)
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_commas_quotes_and_lookalike_strings_stay_strings() -> None:
    spec = AgentSpec("fixed", None, {"action": "pass, bet"})
    assert spec.text == "fixed(action='pass, bet')"
    assert AgentSpec.parse(spec.text).params["action"] == "pass, bet"
    for text in ("true", "none", "10", "[1]"):
        assert AgentSpec.parse(AgentSpec("x", None, {"v": text}).text).params["v"] == text
    assert AgentSpec.parse("x(v=true)").params["v"] is True


def test_spelling_does_not_change_identity() -> None:
    a, b = EnvSpec.parse("rps-v0(rounds=10)"), EnvSpec.parse("rps-v0( rounds = 10 )")
    assert a == b and hash(a) == hash(b) and a.text == b.text == "rps-v0(rounds=10)"
    assert EnvSpec.parse("f(a=1, b=2)") == EnvSpec.parse("f(b=2, a=1)")
    assert EnvSpec.parse("mix(probs={rock: 1, paper: 2})") == EnvSpec.parse("mix(probs={'paper': 2, 'rock': 1})")


def test_forms_and_versions() -> None:
    spec = EnvSpec.parse("random_matrix-v0(size=4, seed=7)")
    assert (spec.name, spec.version, spec.id) == ("random_matrix", 0, "random_matrix-v0")
    assert spec.json == '{"name":"random_matrix","params":{"seed":7,"size":4},"version":0}'
    assert spec.params == {"size": 4, "seed": 7}
    assert EnvSpec.parse("openspiel:goofspiel(num_cards=4)").version is None
    assert str(spec.with_params(size=5)) == "random_matrix-v0(seed=7, size=5)"
    assert spec.without("seed").text == "random_matrix-v0(size=4)"
    assert EnvSpec.of("rps-v0", rounds=3) == EnvSpec.of(EnvSpec.parse("rps-v0(rounds=3)"))
    with pytest.raises(TypeError):
        spec.params["size"] = 9  # type: ignore[index]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("fixed(rock)", "expected key=value"),
        ("fixed(action=[1, 2)", "unbalanced"),
        ("f(a=1, a=2)", "twice"),
        ("f(x=nan)", None),  # a bare word, not a number: the string "nan"
    ],
)
def test_bad_text(text: str, message: str | None) -> None:
    if message is None:
        assert AgentSpec.parse(text).params["x"] == "nan"
        return
    with pytest.raises(ParameterError, match=message):
        AgentSpec.parse(text)


def test_values_are_json_data() -> None:
    with pytest.raises(ParameterError, match="finite"):
        AgentSpec("mix", None, {"probs": {"rock": float("nan")}})
    assert AgentSpec.parse("mix(probs={0: 0.7, 1: 0.3})").params["probs"] == {"0": 0.7, "1": 0.3}
    with pytest.raises(ParameterError, match="keys must be strings or integers"):
        AgentSpec("mix", None, {"probs": {1.5: 0.5}})
    with pytest.raises(ParameterError, match="parameters are"):
        AgentSpec("x", None, {"v": object()})
