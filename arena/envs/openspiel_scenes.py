"""What OpenSpiel games look like: Kuhn and Leduc poker, Liar's dice, Goofspiel, tic-tac-toe and connect four, and a
text picture for any other game. Card and dice games are drawn for a spectator: every hand face up, with whose turn
it is highlighted.
"""

from __future__ import annotations

from typing import Any

import pygame

from arena.render import draw
from arena.render.draw import FELT, SQUARE, WHITE, WIDE, Scene


def _status(env: Any) -> str:
    """Whose turn it is, or the final returns, for an OpenSpiel env."""
    state = env.state
    if state.is_terminal():
        return "final: " + ", ".join(f"P{i} {r:+g}" for i, r in enumerate(state.returns()))
    return f"player {state.current_player()} to move"


# -- card and dice games ------------------------------------------------------------------------------------------


def _seats(surface: pygame.Surface, count: int) -> list[tuple[int, int]]:
    """Top-left corners of the players' areas along the bottom of the table."""
    width = surface.get_width()
    return [(round(30 + i * (width - 60) / count), 300) for i in range(count)]


def _poker_table(
    env: Any,
    surface: pygame.Surface,
    hands: list[tuple[str, str]],
    public: list[tuple[str, str]],
    contributions: list[float],
    pot: float,
    history: list[str],
) -> None:
    """Pot, public cards, each player's card (rank, suit) and chips in, the betting so far, whose turn."""
    surface.fill(FELT)
    state = env.state
    draw.title_bar(surface, env.metadata["name"].replace("_", " "), _status(env))
    turn = -1 if state.is_terminal() else state.current_player()
    draw.text(surface, "pot", (40, 60), 24, WHITE, bold=True)
    draw.chips(surface, (40, 110), pot)
    for i, (rank, suit) in enumerate(public):
        draw.card(surface, (300 + i * 70, 60), rank, suit, face_up=rank != "?")
    if public:
        draw.text(surface, "public", (300, 145), 20, WHITE)
    for i, (x, y) in enumerate(_seats(surface, len(hands))):
        color = draw.HIGHLIGHT if i == turn else WHITE
        draw.text(surface, f"player {i}", (x, y - 40), 26, color, bold=True)
        draw.card(surface, (x, y), *hands[i], highlight=i == turn)
        draw.chips(surface, (x + 70, y + 60), contributions[i], "in: ")
    draw.text(surface, "  ".join(history[-8:]) or "no bets yet", (30, 200), 22, WHITE)


def kuhn_poker(env: Any, surface: pygame.Surface) -> None:
    """Cards of every player, the pot, each player's chips in, the bets so far and whose turn it is."""
    state, players = env.state, env.game.num_players()
    history = state.history()
    dealt = history[:players]
    hands = [("JQKA"[c], "") for c in dealt] + [("?", "")] * (players - len(dealt))
    contributions = [1.0] * players
    moves = []
    for k, action in enumerate(history[players:]):
        player = k % players
        contributions[player] += action
        moves.append(f"P{player} {'Bet' if action else 'Pass'}")
    _poker_table(env, surface, hands, [], contributions, sum(contributions), moves)


def _field(text: str, prefix: str) -> list[str]:
    """The values of the first `prefix...: values` line of an OpenSpiel state string."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return line.partition(":")[2].split()
    return []


LEDUC_STACK = 100  # OpenSpiel's Leduc poker: every player starts with 100 chips
LEDUC_RANKS = "JQKA98765432"  # two suits of players + 1 ranks


def leduc_poker(env: Any, surface: pygame.Surface) -> None:
    """Private cards, the public card once dealt, the pot, chips in and both betting rounds."""
    state = env.state
    picture = str(state)
    cards = [int(c) for c in _field(picture, "Cards")]

    def name(card_id: int) -> tuple[str, str]:
        return ("?", "") if card_id < 0 else (LEDUC_RANKS[card_id // 2], "sh"[card_id % 2])

    if state.is_terminal():  # the money is paid out by then: count the chips in from the position before the end
        before = env.game.new_initial_state()
        for action in state.history()[:-1]:
            before.apply_action(action)
        contributions = [LEDUC_STACK - float(m) for m in _field(str(before), "Money")]
        if state.history()[-1] == 1:  # a call ends the game: the caller matched the bet
            contributions[before.current_player()] = max(contributions)
        pot = sum(contributions)
    else:
        contributions = [LEDUC_STACK - float(m) for m in _field(picture, "Money")]
        pot = float(_field(picture, "Pot")[0])
    rounds = [" ".join(_field(picture, f"Round {r} sequence")) for r in (1, 2)]
    history = [f"R{r + 1}: {seq}" for r, seq in enumerate(rounds) if seq]
    _poker_table(env, surface, [name(c) for c in cards[1:]], [name(cards[0])], contributions, pot, history)


def liars_dice(env: Any, surface: pygame.Surface) -> None:
    """Every player's dice, the bids so far (the current one larger) and whose turn it is."""
    surface.fill(FELT)
    state, players = env.state, env.game.num_players()
    draw.title_bar(surface, "liar's dice", _status(env))
    tokens = str(state).split(" - ")[0].split()
    dice, bids = tokens[:players], tokens[players:]
    turn = -1 if state.is_terminal() else state.current_player()
    for i, (x, y) in enumerate(_seats(surface, players)):
        draw.text(surface, f"player {i}", (x, y - 40), 26, draw.HIGHLIGHT if i == turn else WHITE, bold=True)
        faces = dice[i].replace("-1", "0") if i < len(dice) else ""
        for k, face in enumerate(faces):
            draw.die(surface, (x + k * 52, y), int(face))
    draw.text(surface, "bids:", (30, 60), 24, WHITE, bold=True)
    for k, bid in enumerate(bids[-6:]):
        label = "Liar!" if bid.lower().startswith("liar") else f"{bid.split('-')[0]} x {bid.split('-')[-1]}s"
        draw.text(
            surface,
            label,
            (110 + k * 95, 60),
            26 if k == len(bids[-6:]) - 1 else 22,
            draw.HIGHLIGHT if k == len(bids[-6:]) - 1 else WHITE,
            bold=True,
        )


def goofspiel(env: Any, surface: pygame.Surface) -> None:
    """The prize card on offer, every hand, the bids of past turns and the points won."""
    surface.fill(FELT)
    draw.title_bar(surface, "goofspiel", _status(env))
    picture = str(env.state)
    players = env.game.num_players()
    prizes = _field(picture, "Point card sequence")
    points = _field(picture, "Points") or ["0"] * players
    if prizes and not env.state.is_terminal():
        draw.text(surface, "prize", (40, 50), 22, WHITE, bold=True)
        draw.card(surface, (40, 75), prizes[-1], highlight=True)
    turn = -1 if env.state.is_terminal() else env.state.current_player()
    for i, (x, y) in enumerate(_seats(surface, players)):
        draw.text(
            surface,
            f"player {i}: {points[i]} points",
            (x, y - 40),
            24,
            draw.HIGHLIGHT if i == turn else WHITE,
            bold=True,
        )
        for k, value in enumerate(_field(picture, f"P{i} hand")):
            draw.card(surface, (x + k * 40, y), value, width=36)
        bids = [str(int(a) + 1) for a in _field(picture, f"P{i} actions")]
        draw.text(surface, "bids: " + " ".join(bids), (x, y + 70), 22, WHITE)
    won = " ".join(prizes[:-1] if not env.state.is_terminal() else prizes)
    draw.text(surface, f"prizes so far: {won or 'none'}", (150, 100), 22, WHITE)


# -- boards -------------------------------------------------------------------------------------------------------


def _grid_scene(style: str) -> Scene:
    def scene(env: Any, surface: pygame.Surface) -> None:
        surface.fill(draw.BACKGROUND)
        name = env.metadata["name"].replace("_", " ")
        draw.title_bar(surface, name, _status(env))
        rows = [line for line in str(env.state).splitlines() if line and set(line) <= {".", "x", "o"}]
        history = env.state.history()
        last = None
        if history:
            cols = len(rows[0])
            if style == "marks":
                last = divmod(history[-1], cols)
            else:  # the top disc of the column played last
                column = history[-1]
                last = next(((r, column) for r in range(len(rows)) if rows[r][column] != "."), None)
        area = pygame.Rect(20, 50, surface.get_width() - 40, surface.get_height() - 70)
        draw.board(surface, area, rows, style, last)

    scene.__doc__ = f"The board ({style}) with the last move outlined."
    return scene


tic_tac_toe = _grid_scene("marks")
connect_four = _grid_scene("discs")


def text_picture(env: Any, surface: pygame.Surface) -> None:
    """Any other OpenSpiel game: OpenSpiel's own picture of the state as text, with whose turn it is."""
    surface.fill(draw.BACKGROUND)
    draw.title_bar(surface, env.metadata["name"].replace("_", " "), _status(env))
    draw.wrapped_text(
        surface, str(env.state), pygame.Rect(20, 50, surface.get_width() - 40, surface.get_height() - 60), 22
    )


OPENSPIEL_SCENES: dict[str, Scene] = {
    "kuhn_poker": kuhn_poker,
    "leduc_poker": leduc_poker,
    "liars_dice": liars_dice,
    "goofspiel": goofspiel,
    "tic_tac_toe": tic_tac_toe,
    "connect_four": connect_four,
}


def scene_for_game(name: str) -> tuple[Scene, tuple[int, int]]:
    """The drawing function and frame size of an OpenSpiel game by its short name."""
    return OPENSPIEL_SCENES.get(name, text_picture), (SQUARE if name in ("tic_tac_toe", "connect_four") else WIDE)
