"""Vectorised particle worlds: B worlds of one scenario stepped at once as torch tensors, on CPU or CUDA.

```python
from arena.envs.particles import make_vector_env
env = make_vector_env("spread-v0", num_envs=1024, device="cpu", seed=0, N=3)
obs = env.reset()                                  # [B, N, obs_dim] float32
obs, rewards, terminated, truncated, info = env.step(env.heuristic_actions())
```

Finished worlds restart inside `step`; `info["done_mask"]` marks them and `info["final_obs"]` /
`info["episode_return"]` describe the episodes that just ended. Each world is an env registered with its batched
version (`arena.registry.vector_envs()` lists them). `arena.make_env("spread-v0")` gives a PettingZoo
ParallelEnv over one world of the same simulation.
"""

from __future__ import annotations

from arena.envs.particles.core import ACTION_NAMES, NUM_MOVES, VectorParticleEnv
from arena.envs.particles.mpe import AdversaryEnv, SpreadEnv, TagEnv
from arena.envs.particles.pursuit import ENTITY_DIM, OWN_DIM, PursuitEnv
from arena.registry import make_vector_env

__all__ = [
    "ACTION_NAMES",
    "ENTITY_DIM",
    "NUM_MOVES",
    "OWN_DIM",
    "AdversaryEnv",
    "PursuitEnv",
    "SpreadEnv",
    "TagEnv",
    "VectorParticleEnv",
    "make_vector_env",
]
