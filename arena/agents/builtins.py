"""Built-in agents, registered by name; factories are strings so that each loads only when used.

The agent registry imports this module on first use, and `solvers.py` (the solvers, which register themselves and
their agents) only when a name is not found here, so that playing `random` imports no solver, numpy or scipy.
"""

from arena.registry import register_agent

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
