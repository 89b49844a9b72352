"""Built-in agents and solvers, registered by name; factories are strings so that each loads only when used.

The agent and solver registries import this module on first use: playing `random` or listing every agent imports
no solver, numpy or scipy. A solver's module loads when the solver or its agent is first made.
"""

from arena.registry import register_agent, register_solver

for _name, _target, _tags, _description in [
    ("random", "arena.agents.random:RandomAgent", ("scripted", "exact"), "Uniform over the legal actions (exact)"),
    (
        "fixed",
        "arena.agents.scripted:FixedAgent",
        ("scripted",),
        "Always the same action, by name or index; a legal fallback otherwise",
    ),
    (
        "mix",
        "arena.agents.scripted:MixAgent",
        ("scripted", "exact"),
        "A fixed mixed strategy over actions by name, e.g. mix(probs={rock: 0.5, paper: 0.5})",
    ),
    (
        "human",
        "arena.agents.human:HumanAgent",
        ("human",),
        "A person at the terminal: sees the text, types a move by name or number",
    ),
    (
        "llm",
        "arena.agents.llm.agent:LLMAgent",
        ("llm",),
        "A language model through any OpenAI-compatible chat endpoint, e.g. "
        "llm(model=qwen2.5:7b, base_url=http://localhost:11434/v1)",
    ),
    (
        "heuristic",
        "arena.envs.particles.heuristic:HeuristicAgent",
        ("scripted", "particles"),
        "The scripted baseline of a particle world (spread, adversary, tag, pursuit)",
    ),
]:
    register_agent(_name, _target, description=_description, tags=_tags)

register_agent(
    "process",
    "arena.isolation:process_agent",
    loader="agent",
    description="Any agent in a process of its own: process:SPEC, e.g. process:cfr_plus(iterations=100); it sees only "
    "its observations, and its crashes, exits and hangs cost only its own moves",
    tags=("isolation", "loader"),
)
register_agent(
    "checkpoint",
    "arena.agents.marl.agent:CheckpointAgent",
    loader="path",
    description="A policy trained by `arena train`: checkpoint:PATH, e.g. checkpoint:runs/x/best.pt "
    "(greedy=true for its most likely action)",
    tags=("marl", "loader", "exact"),
)

for _name, _solver, _agent, _tags, _description in [
    (
        "cfr",
        "arena.agents.cfr:CFRSolver",
        None,
        (),
        "CFR with alternating updates; solves the env, plays the average policy (exact)",
    ),
    (
        "cfr_plus",
        "arena.agents.cfr:CFRPlusSolver",
        None,
        (),
        "CFR+ (regret matching+, linear averaging); solves the env, plays the average policy",
    ),
    (
        "ftrl",
        "arena.agents.ftrl:FTRL",
        "arena.agents.ftrl:ftrl_agent",
        ("online",),
        "FTRL with the dilated entropy (Hedge on matrix games), average policy; online Hedge in repeated matrix games",
    ),
    (
        "mmd",
        "arena.agents.mmd:MagneticMirrorDescent",
        None,
        (),
        "Magnetic mirror descent (Sokota et al. 2023), last iterate",
    ),
    (
        "nash_mp",
        "arena.agents.nash_mp:NashMirrorProx",
        "arena.agents.nash_mp:nash_mp_agent",
        ("online",),
        "Nash mirror prox: KL-regularised extragradient, last iterate; online in repeated matrix games",
    ),
    (
        "balanced_ftrl",
        "arena.agents.balanced_ftrl:BalancedFTRL",
        None,
        ("sampling",),
        "Balanced FTRL (Fiegel et al. 2023): learns from sampled realizations only, average policy",
    ),
    (
        "adaptive_ftrl",
        "arena.agents.balanced_ftrl:AdaptiveFTRL",
        None,
        ("sampling",),
        "Adaptive FTRL (Fiegel et al. 2023): balanced FTRL that learns the tree statistics as it goes",
    ),
]:
    register_solver(_name, _solver, _agent, description=_description, tags=_tags)
