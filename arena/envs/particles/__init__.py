"""Vectorised particle worlds: B worlds of one scenario stepped at once as torch tensors, on CPU or CUDA.

```python
from arena.envs.particles import make_vector_env
env = make_vector_env("spread-v0", num_envs=1024, device="cpu", seed=0, N=3)
obs = env.reset()                                  # [B, N, obs_dim] float32
obs, rewards, terminated, truncated, info = env.step(env.heuristic_actions())
```

Finished worlds restart inside `step`; `info["done_mask"]` marks them and `info["final_obs"]` /
`info["episode_return"]` describe the episodes that just ended. `arena.make_env("spread-v0")` gives a PettingZoo
ParallelEnv over one world of the same simulation.
"""

from __future__ import annotations

from typing import Any

from arena.core import UnknownNameError
from arena.envs.particles.core import ACTION_NAMES, NUM_MOVES, VectorParticleEnv
from arena.envs.particles.mpe import AdversaryEnv, SpreadEnv, TagEnv
from arena.envs.particles.pursuit import ENTITY_DIM, OWN_DIM, PursuitEnv
from arena.registry import check_params, parse_spec

SCENARIOS: dict[str, type[VectorParticleEnv]] = {
    "spread-v0": SpreadEnv,
    "adversary-v0": AdversaryEnv,
    "tag-v0": TagEnv,
    "pursuit-v0": PursuitEnv,
}


def make_vector_env(
    env_id: str, num_envs: int, device: str = "cpu", seed: int | None = None, **params: Any
) -> VectorParticleEnv:
    """`num_envs` worlds of the particle scenario `env_id` (parameters as keywords or in the id, `spread-v0(N=5)`)."""
    name, parsed = parse_spec(env_id)
    if name not in SCENARIOS:
        import difflib

        close = difflib.get_close_matches(name, list(SCENARIOS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; particle worlds are {', '.join(SCENARIOS)}"
        raise UnknownNameError(f"unknown particle world {name!r}{hint}")
    scenario = SCENARIOS[name]
    checked = check_params(scenario, {**parsed, **params}, f"env {name}", skip=("num_envs", "device", "seed"))
    return scenario(num_envs=num_envs, device=device, seed=seed, **checked)


__all__ = [
    "ACTION_NAMES",
    "ENTITY_DIM",
    "NUM_MOVES",
    "OWN_DIM",
    "SCENARIOS",
    "AdversaryEnv",
    "PursuitEnv",
    "SpreadEnv",
    "TagEnv",
    "VectorParticleEnv",
    "make_vector_env",
]
