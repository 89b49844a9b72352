"""Multi-agent reinforcement learning in PyTorch: MAPPO, IPPO, MADDPG and the attention policy, `arena train`,
and checkpoints that play as arena agents."""

ALGORITHMS = {
    "mappo": "arena.agents.marl.mappo:MAPPO",
    "ippo": "arena.agents.marl.ippo:IPPO",
    "maddpg": "arena.agents.marl.maddpg:MADDPG",
}
