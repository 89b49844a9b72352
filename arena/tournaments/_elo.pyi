from typing import Any

def run(
    ratings: Any, first: Any, second: Any, score: Any, weight: Any, rows: Any, width: int, players: int
) -> None: ...
