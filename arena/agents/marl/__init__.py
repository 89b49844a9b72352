"""Multi-agent reinforcement learning in PyTorch: MAPPO, IPPO, MADDPG and the attention policy, `arena train`,
and checkpoints that play as arena agents.

    algorithms.py   the registry of learners (`--algo`) and the Trainer interface
    mappo.py        MAPPO, read top to bottom: config, GAE, ValueNorm, rollout buffer, trainer
    ippo.py         MAPPO with per-agent observation critics
    maddpg.py       MADDPG: config, replay buffer, Gumbel-softmax, trainer
    batching.py     batched envs: particle worlds, PettingZooBatch, action masks
    layers.py       orthogonal initialisation, per-agent linear layers
    networks.py     per-agent MLPs, network kinds, Policy
    attention.py    the size-free attention network
    configs.py      hyperparameter schemas: files, --set values, validation, the README table
    checkpoints.py  checkpoint files
    evaluation.py   acting and evaluating on batched envs
    runner.py       the training loop, run directories, multi-seed summaries
    agent.py        checkpoints as arena agents
    cli.py          `arena train`
"""
