"""Built-in environments. Factories are named as strings so that nothing heavy is imported until an env is made.

`openspiel:<game string>` is a loader entry: any OpenSpiel game, its parameters merged into the game string.
"""

from arena.registry import Outcomes, register_env

_M = "arena.envs.matrix"
_OS = "arena.envs.openspiel"
_ZS2 = ("competitive", "zero-sum")

for _id, _name, _desc, _tags in [
    ("rps-v0", "rps", "Rock-paper-scissors, one-shot or repeated", _ZS2),
    ("matching_pennies-v0", "matching_pennies", "Matching pennies, one-shot or repeated", _ZS2),
    ("prisoners_dilemma-v0", "prisoners_dilemma", "Prisoner's dilemma (T=5, R=3, P=1, S=0)", ("general-sum",)),
    (
        "stag_hunt-v0",
        "stag_hunt",
        "Stag hunt: a coordination game with a risky payoff-dominant equilibrium",
        ("cooperative", "general-sum"),
    ),
    (
        "battle_of_sexes-v0",
        "battle_of_sexes",
        "Battle of the sexes: coordination with opposed preferences",
        ("general-sum",),
    ),
    ("shapley-v0", "shapley", "Shapley's 3x3 game, where fictitious play cycles", ("general-sum",)),
    ("random_matrix-v0", "random_matrix", "A random normal-form game (size, zero-sum or not, seed)", ("competitive",)),
    (
        "preference-v0",
        "preference",
        "Symmetric zero-sum game from a preference matrix (Nash learning from "
        "human feedback), intransitive example by default",
        _ZS2,
    ),
]:
    register_env(
        _id,
        f"{_M}:{_name}",
        description=_desc,
        num_players=2,
        turn_based=False,
        tags=("normal-form", "repeated", "tabular", *_tags),
        outcomes=Outcomes("amounts" if "zero-sum" in _tags else "general-sum"),
    )

# matrix-v0 has no default game; `example` holds parameters that make one (used by docs and the generic env tests).
register_env(
    "matrix-v0",
    f"{_M}:matrix",
    description="A normal-form game from a payoff tensor given by the user",
    num_players=2,
    turn_based=False,
    tags=("normal-form", "repeated", "tabular"),
    example={"payoffs": [[[2, 0], [0, 1]], [[1, 0], [0, 2]]], "action_names": [["x", "y"]] * 2},
)


_IMPERFECT = ("competitive", "zero-sum", "imperfect-information")
_DEALT = Outcomes("amounts", chance=True)  # chips, with cards dealt by chance
_WDL = Outcomes("win-draw-loss")
for _id, _name, _desc, _players, _tags, _outcomes in [
    ("kuhn_poker-v0", "kuhn_poker", "Kuhn poker (OpenSpiel), 2 or 3 players", (2, 3), _IMPERFECT, _DEALT),
    ("leduc_poker-v0", "leduc_poker", "Leduc hold'em (OpenSpiel)", 2, _IMPERFECT, _DEALT),
    (
        "liars_dice-v0",
        "liars_dice",
        "Liar's dice (OpenSpiel), 1 die of 6 sides each by default",
        2,
        _IMPERFECT,
        Outcomes("win-draw-loss", chance=True),
    ),
    (
        "goofspiel-v0",
        "goofspiel",
        "Imperfect-information Goofspiel with 4 cards (OpenSpiel, turn-based)",
        2,
        _IMPERFECT,
        _WDL,
    ),
    ("tic_tac_toe-v0", "tic_tac_toe", "Tic-tac-toe (OpenSpiel)", 2, ("competitive", "zero-sum", "board"), _WDL),
    ("connect_four-v0", "connect_four", "Connect four (OpenSpiel)", 2, ("competitive", "zero-sum", "board"), _WDL),
]:
    register_env(
        _id,
        f"{_OS}:{_name}",
        description=_desc,
        num_players=_players,
        turn_based=True,
        tags=("tabular", *_tags),
        outcomes=_outcomes,
    )

register_env(
    "openspiel",
    f"{_OS}:make_openspiel_env",
    loader="openspiel_game",  # not `game`: OpenSpiel's game transforms take a `game` parameter
    description="Any OpenSpiel game: openspiel:<game string>, e.g. openspiel:liars_dice(numdice=2)",
    num_players=2,
    turn_based=True,
    tags=("tabular",),
    outcomes=f"{_OS}:game_outcomes",
)

_P = "arena.envs.particles"
for _id, _name, _world, _desc, _players, _tags in [  # starting positions are random: chance
    (
        "spread-v0",
        "spread",
        "SpreadEnv",
        "Particle world: N agents cover N landmarks (MPE2 simple_spread_v3), batched in torch",
        3,
        ("cooperative",),
    ),
    (
        "adversary-v0",
        "adversary",
        "AdversaryEnv",
        "Particle world: good agents hide the goal from an adversary (MPE2 simple_adversary_v3)",
        3,
        ("competitive", "general-sum"),
    ),
    (
        "tag-v0",
        "tag",
        "TagEnv",
        "Particle world: predators chase prey among obstacles (MPE2 simple_tag_v3)",
        4,
        ("competitive", "general-sum"),
    ),
    (
        "pursuit-v0",
        "pursuit",
        "PursuitEnv",
        "Particle world: pursuers track targets by range and bearing, up to 1000 x 1000",
        4,
        ("cooperative", "many-agent"),
    ),
]:
    register_env(
        _id,
        f"{_P}.view:{_name}",
        vector_target=f"{_P}:{_world}",
        description=_desc,
        num_players=_players,
        turn_based=False,
        tags=("particles", "continuous-state", *_tags),
        outcomes=Outcomes("cooperative" if "cooperative" in _tags else "general-sum", chance=True),
    )
