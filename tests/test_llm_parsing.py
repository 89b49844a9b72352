"""Reading moves and mixed strategies out of free-form model replies, and the prompt templates."""

import numpy as np
import pytest

from arena.agents.llm.parsing import find_json_values, parse_distribution, parse_move
from arena.agents.llm.prompts import load_templates
from arena.core import ParameterError

RPS = ["rock", "paper", "scissors"]
KUHN = ["Pass", "Bet"]
TTT = [f"x({r},{c})" for r in range(3) for c in range(3)]


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("paper", 1),
        ("  PAPER!! ", 1),
        ("Move: scissors", 2),
        ("**Move:** Scissors.", 2),
        ("I considered rock, but paper beats rock... so scissors? No.\nFinal answer: paper", 1),
        ("Move: rock\nOn reflection:\nMove: paper", 1),  # the last answer line wins
        ("Rock is tempting; paper would lose to scissors. I'll go with rock.", 0),  # last legal move mentioned
        ('{"reason": "they like rock", "move": "Paper"}', 1),
        ("I choose [scissors] this time.", 2),
        ("Move: 2", 2),  # by action number
        ("2", 2),
        ("<think>maybe paper, maybe rock</think>\nMove: scissors", 2),  # reasoning blocks are ignored
        ("Answer: (1) paper", 1),
        ("I will not answer.", None),
        ("", None),
    ],
)
def test_parse_move_rps(reply, expected):
    assert parse_move(reply, RPS, [0, 1, 2]) == expected


def test_parse_move_names_with_punctuation_and_numbers():
    legal = [0, 4, 8]
    assert parse_move("Move: x(1,1)", TTT, legal) == 4
    assert parse_move("The centre X(1, 1) is best.", TTT, legal) == 4
    assert parse_move("I take the corner x22", TTT, legal) == 8
    assert parse_move("Move: 8", TTT, legal) == 8


def test_explicit_answer_may_be_illegal_but_free_text_counts_only_legal_moves():
    # the final answer names an illegal move: its id is returned so the match's policy can act on it
    assert parse_move("Move: Bet", KUHN, [0]) == 1
    # free text: Bet is mentioned last, but only Pass is legal
    assert parse_move("Pass seems safe, Bet is not allowed", KUHN, [0]) == 0
    assert parse_move("Move: 7", RPS, [0, 1, 2]) is None  # an id that does not exist


@pytest.mark.parametrize(
    "reply, expected",
    [
        ('{"rock": 0.2, "paper": 0.3, "scissors": 0.5}', [0.2, 0.3, 0.5]),
        ('Thinking...\n{"Rock": 20, "PAPER": 30, "scissors": 50}', [0.2, 0.3, 0.5]),  # renormalised
        ('{"policy": [0.5, 0.25, 0.25]}', [0.5, 0.25, 0.25]),  # Park et al. style
        ("{'rock': '50%', 'paper': '50%', 'scissors': '0%',}", [0.5, 0.5, 0.0]),  # sloppy JSON
        ('first {"rock": 1} then, corrected: {"paper": 1}', [0.0, 1.0, 0.0]),  # the last object wins
        ("rock: 0.6\npaper = 0.4\nscissors: 0", [0.6, 0.4, 0.0]),  # lines, no JSON
        ("[0.1, 0.1, 0.8]", [0.1, 0.1, 0.8]),
    ],
)
def test_parse_distribution(reply, expected):
    np.testing.assert_allclose(parse_distribution(reply, RPS, [0, 1, 2]), expected, atol=1e-12)


def test_parse_distribution_drops_illegal_weight_and_rejects_nonsense():
    np.testing.assert_allclose(parse_distribution('{"Pass": 0.25, "Bet": 0.75}', KUHN, [0]), [1.0, 0.0])
    assert parse_distribution('{"rock": -0.5, "paper": 1.5}', RPS, [0, 1, 2]) is None
    assert parse_distribution('{"rock": 0, "paper": 0}', RPS, [0, 1, 2]) is None
    assert parse_distribution("I like rock best.", RPS, [0, 1, 2]) is None
    assert parse_distribution('{"lizard": 1}', RPS, [0, 1, 2]) is None


def test_find_json_values_skips_prose_and_nested_objects():
    text = 'It\'s {"a": {"b": [1, 2]}} and [3, 4,] but not {broken'
    assert find_json_values(text) == [{"a": {"b": [1, 2]}}, [3, 4]]


def test_templates_builtin_and_file(tmp_path):
    default = load_templates()
    prompt = default.user_prompt("act", "TEXT", ["rock", "paper"], error="bad answer")
    assert prompt.startswith("TEXT") and "rock, paper" in prompt and "bad answer" in prompt
    assert '"rock": 0.50' in default.user_prompt("distribution", "TEXT", ["rock", "paper"])
    assert "JSON" in load_templates("json").act

    custom = tmp_path / "terse.toml"
    custom.write_text('act = "{text}\\nPick one of {legal_moves}. Move: <move>"\n')
    loaded = load_templates(str(custom))
    assert loaded.user_prompt("act", "T", ["a", "b"]) == "T\nPick one of a, b. Move: <move>"
    assert loaded.system == default.system  # parts not given keep the default

    for content, message in [
        ('act = "{text} {secret}"', "unknown placeholder"),
        ('act = "no observation"', "must contain {text}"),
        ('colour = "red"', "unknown part"),
        ("act = [", "cannot read"),
    ]:
        custom.write_text(content)
        with pytest.raises(ParameterError, match=message):
            load_templates(str(custom))
    with pytest.raises(ParameterError, match="neither a built-in"):
        load_templates("no-such-template")
