"""Built-in agents, registered by name; factories are strings so that each loads only when used."""

from arena.registry import register_agent

register_agent(
    "random",
    "arena.agents.random:RandomAgent",
    description="Uniform over the legal actions (exact)",
    tags=("scripted", "exact"),
)
register_agent(
    "fixed",
    "arena.agents.scripted:FixedAgent",
    description="Always the same action, by name or index; a legal fallback otherwise",
    tags=("scripted",),
)
register_agent(
    "mix",
    "arena.agents.scripted:MixAgent",
    description="A fixed mixed strategy over actions by name, e.g. mix(probs={rock: 0.5, paper: 0.5})",
    tags=("scripted", "exact"),
)
register_agent(
    "human",
    "arena.agents.human:HumanAgent",
    description="A person at the terminal: sees the text, types a move by name or number",
    tags=("human",),
)
register_agent(
    "llm",
    "arena.agents.llm.agent:LLMAgent",
    description="A language model through any OpenAI-compatible chat endpoint, e.g. "
    "llm(model=qwen2.5:7b, base_url=http://localhost:11434/v1)",
    tags=("llm",),
)
register_agent(
    "heuristic",
    "arena.envs.particles.heuristic:HeuristicAgent",
    description="The scripted baseline of a particle world (spread, adversary, tag, pursuit)",
    tags=("scripted", "particles"),
)
register_agent(
    "cfr",
    "arena.games.solve:cfr_agent",
    description="CFR with alternating updates; solves the env, plays the average policy (exact)",
    tags=("solver", "exact"),
)
register_agent(
    "cfr_plus",
    "arena.games.solve:cfr_plus_agent",
    description="CFR+ (regret matching+, linear averaging); solves the env, plays the average policy",
    tags=("solver", "exact"),
)
register_agent(
    "ftrl",
    "arena.agents.ftrl:ftrl_agent",
    description="FTRL with the dilated entropy (Hedge on matrix games), average policy; online Hedge in "
    "repeated matrix games",
    tags=("solver", "exact", "online"),
)
register_agent(
    "balanced_ftrl",
    "arena.agents.balanced_ftrl:balanced_ftrl_agent",
    description="Balanced FTRL (Fiegel et al. 2023): learns from sampled realizations only, average policy",
    tags=("solver", "exact", "sampling"),
)
register_agent(
    "adaptive_ftrl",
    "arena.agents.balanced_ftrl:adaptive_ftrl_agent",
    description="Adaptive FTRL (Fiegel et al. 2023): balanced FTRL that learns the tree statistics as it goes",
    tags=("solver", "exact", "sampling"),
)
register_agent(
    "nash_mp",
    "arena.agents.nash_mp:nash_mp_agent",
    description="Nash mirror prox: KL-regularised extragradient, last iterate; online in repeated matrix games",
    tags=("solver", "exact", "online"),
)
register_agent(
    "mmd",
    "arena.agents.mmd:mmd_agent",
    description="Magnetic mirror descent (Sokota et al. 2023), last iterate",
    tags=("solver", "exact"),
)
register_agent(
    "checkpoint",
    "arena.agents.marl.agent:CheckpointAgent",
    description="A policy trained by `arena train`: checkpoint:PATH, e.g. checkpoint:runs/x/best.pt "
    "(greedy=true for its most likely action)",
    tags=("marl", "loader", "exact"),
)
