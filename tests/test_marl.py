"""MARL building blocks: batched envs and masks, networks, GAE, value normalisation, checkpoints, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from arena.agents.marl.algorithms import algorithms, hyperparameter_table, trainer_class
from arena.agents.marl.attention import AttentionNet
from arena.agents.marl.batching import acting_of, action_mask_of, make_batched_env
from arena.agents.marl.checkpoints import load_checkpoint, save_checkpoint
from arena.agents.marl.configs import build_config, parse_value_for
from arena.agents.marl.maddpg import MADDPG, MADDPGConfig, gumbel_softmax
from arena.agents.marl.mappo import MAPPO, MAPPOConfig, ValueNorm, compute_gae
from arena.agents.marl.networks import AgentNet, Policy, masked_logits
from arena.errors import ArenaError, ConfigError, UnknownNameError
from arena.specs import EnvSpec

torch.set_num_threads(1)


def test_agent_net_shapes_shared_and_per_agent():
    x = torch.randn(7, 3, 5)
    shared = AgentNet(5, 4, num_agents=3, hidden=(8,), shared=True)
    separate = AgentNet(5, 4, num_agents=3, hidden=(8,), shared=False)
    assert shared(x).shape == separate(x).shape == (7, 3, 4)
    # Rows can be any subset of agents: agent 2 alone gives agent 2's row of the full batch.
    for net in (shared, separate):
        alone = net(x[:, 2:3], torch.tensor([2]))
        assert torch.allclose(alone, net(x)[:, 2:3], atol=1e-6)
    # Per-agent weights really differ: the same input gives different outputs for different agents.
    same = x[:, :1].expand(7, 3, 5)
    out = separate(same)
    assert not torch.allclose(out[:, 0], out[:, 1])


def test_masked_logits_give_zero_probability_to_illegal_actions():
    logits = torch.zeros(2, 3)
    mask = torch.tensor([[True, False, True], [False, False, True]])
    probs = torch.softmax(masked_logits(logits, mask), -1)
    assert torch.allclose(probs, torch.tensor([[0.5, 0.0, 0.5], [0.0, 0.0, 1.0]]))


def test_attention_net_is_size_free_and_ignores_absent_slots():
    torch.manual_seed(0)
    net = AttentionNet(own_dim=4, entity_dim=6, out_dim=5)
    own = torch.randn(10, 4)
    entities = torch.randn(10, 3, 6)
    entities[..., 0] = 1.0
    obs = torch.cat([own, entities.reshape(10, -1)], dim=-1)
    out = net(obs)
    assert out.shape == (10, 5)
    # Padding with absent slots (presence 0) and permuting the present ones changes nothing.
    padded = torch.cat([own, entities[:, [2, 0, 1]].reshape(10, -1), torch.zeros(10, 4 * 6)], dim=-1)
    assert torch.allclose(net(padded), out, atol=1e-5)
    # Nobody in sight is well defined, and works for any leading shape.
    empty = torch.cat([own, torch.zeros(10, 6)], dim=-1).reshape(2, 5, -1)
    assert torch.isfinite(net(empty)).all() and net(empty).shape == (2, 5, 5)


def test_gae_simultaneous_matches_direct_recursion():
    gen = torch.Generator().manual_seed(0)
    T, B, N = 6, 2, 3
    rewards, values = torch.randn(T, B, N, generator=gen), torch.randn(T, B, N, generator=gen)
    dones = torch.zeros(T, B, dtype=torch.bool)
    dones[2, 0] = True
    last = torch.randn(B, N, generator=gen)
    acting = torch.ones(T, B, N, dtype=torch.bool)
    adv, ret = compute_gae(rewards, values, acting, dones, torch.zeros(T, B, N), last, 0.9, 0.8)
    expected = torch.zeros(T, B, N)
    running = torch.zeros(B, N)
    for t in reversed(range(T)):
        nonterminal = (~dones[t]).float().unsqueeze(-1)
        next_value = last if t == T - 1 else values[t + 1]
        delta = rewards[t] + 0.9 * next_value * nonterminal - values[t]
        running = delta + 0.9 * 0.8 * nonterminal * running
        expected[t] = running
    assert torch.allclose(adv, expected, atol=1e-6)
    assert torch.allclose(ret, expected + values, atol=1e-6)


def test_gae_turn_based_credits_rewards_to_each_players_own_moves():
    # Player 0 moves at t=0 and t=2, player 1 at t=1; the game ends after t=2 paying (+1, -1).
    acting = torch.tensor([[[True, False]], [[False, True]], [[True, False]]])
    rewards = torch.zeros(3, 1, 2)
    rewards[2, 0] = torch.tensor([1.0, -1.0])
    values = torch.zeros(3, 1, 2)
    dones = torch.tensor([[False], [False], [True]])
    _, returns = compute_gae(rewards, values, acting, dones, torch.zeros(3, 1, 2), torch.full((1, 2), 9.0), 1.0, 1.0)
    assert returns[0, 0, 0] == 1.0 and returns[2, 0, 0] == 1.0 and returns[1, 0, 1] == -1.0
    # Discounting is per decision of the player: with gamma 0.5 player 0's first move is worth 0.5.
    _, returns = compute_gae(rewards, values, acting, dones, torch.zeros(3, 1, 2), torch.zeros(1, 2), 0.5, 1.0)
    assert returns[0, 0, 0] == 0.5 and returns[1, 0, 1] == -1.0


def test_value_norm_round_trip_and_statistics():
    norm = ValueNorm(2, beta=0.9)
    x = torch.tensor([[1.0, 10.0], [3.0, 30.0]])
    for _ in range(200):
        norm.update(x, torch.ones_like(x, dtype=torch.bool))
    assert torch.allclose(norm.normalize(x).mean(0), torch.zeros(2), atol=1e-4)
    assert torch.allclose(norm.denormalize(norm.normalize(x)), x, atol=1e-4)
    # Entries outside the mask do not move the statistics.
    before = norm.mean.clone()
    norm.update(torch.full((2, 2), 1e6), torch.zeros(2, 2, dtype=torch.bool))
    assert torch.equal(norm.mean, before)


def test_pettingzoo_batch_turn_based_masks_and_acting():
    env = make_batched_env("kuhn_poker-v0", 4, seed=0)
    obs = env.reset(seed=0)
    assert obs.shape == (4, 2, env.obs_dim) and env.num_actions == 2
    acting, mask = acting_of(env), action_mask_of(env)
    assert acting.shape == (4, 2) and (acting.sum(1) == 1).all() and acting[:, 0].all()  # player 0 opens
    assert mask.shape == (4, 2, 2) and mask[:, 0].all() and not mask[:, 1].any()
    returns = []
    for _ in range(10):
        actions = torch.ones(4, 2, dtype=torch.long)  # everyone bets/calls: every game ends at showdown
        obs, rewards, terminated, truncated, info = env.step(actions)
        returns.extend(info["episode_return"][info["done_mask"]].tolist())
    assert returns and all(sum(r) == 0 and abs(r[0]) == 2 for r in returns)


def test_particle_env_through_the_same_interface():
    env = make_batched_env("spread-v0(N=2)", 3, seed=0)
    assert env.reset(seed=0).shape == (3, 2, env.obs_dim)
    assert action_mask_of(env) is None and acting_of(env).all()


def test_config_errors_are_clear():
    with pytest.raises(ConfigError, match="did you mean lr"):
        build_config(MAPPOConfig, {"lrr": 1}, "mappo")
    with pytest.raises(ConfigError, match="should be a number"):
        build_config(MAPPOConfig, {"lr": "fast"}, "mappo")
    assert build_config(MAPPOConfig, {"hidden": [32]}, "mappo").hidden == (32,)


def test_config_schema_types_choices_and_ranges():
    assert parse_value_for(MAPPOConfig, "hidden", "[128, 128]") == [128, 128]
    assert parse_value_for(MAPPOConfig, "lr", "3e-4") == 3e-4
    assert parse_value_for(MAPPOConfig, "activation", "relu") == "relu"
    assert build_config(MAPPOConfig, {"epochs": 3.0}, "mappo").epochs == 3
    with pytest.raises(ConfigError, match="activation must be tanh or relu"):
        build_config(MAPPOConfig, {"activation": "sigmoid"}, "mappo")
    with pytest.raises(ConfigError, match="minibatches must be at least 1"):
        build_config(MAPPOConfig, {"minibatches": 0}, "mappo")
    with pytest.raises(ConfigError, match="ensemble must be at least 1"):
        build_config(MADDPGConfig, {"ensemble": 0}, "maddpg")
    with pytest.raises(ConfigError, match="multiple of attention_heads"):
        build_config(MAPPOConfig, {"network": "attention", "attention_heads": 5}, "mappo")


def test_algorithms_registry_loads_on_use_and_suggests_names():
    assert set(algorithms.names()) >= {"mappo", "ippo", "maddpg"}
    assert trainer_class("mappo") is MAPPO and trainer_class("maddpg") is MADDPG
    with pytest.raises(UnknownNameError, match="did you mean mappo") as error:
        trainer_class("mapo")
    assert isinstance(error.value, ArenaError)


def test_readme_hyperparameter_table_matches_the_config_dataclasses():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- hyperparameters:begin -->\n")[1].split("<!-- hyperparameters:end -->")[0]
    assert table == hyperparameter_table()


def test_batched_env_from_a_spec_value():
    spec = EnvSpec.of("spread-v0", N=2)
    assert make_batched_env(spec, 2, seed=0).num_agents == make_batched_env("spread-v0(N=2)", 2, seed=0).num_agents == 2


def test_checkpoint_round_trip(tmp_path):
    policy = Policy("mlp", {"in_dim": 5, "out_dim": 3, "num_agents": 2, "hidden": [8]}, {"agent_names": ["a", "b"]})
    save_checkpoint(tmp_path / "p.pt", policy, {"lr": 1e-3, "hidden": (8,)}, {"eval_return": -1.5})
    loaded, record = load_checkpoint(tmp_path / "p.pt")
    x = torch.randn(4, 2, 5)
    assert torch.equal(loaded.logits(x), policy.logits(x))
    assert record["config"] == {"lr": 1e-3, "hidden": [8]} and record["extra"]["eval_return"] == -1.5
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError):
        load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def _parameters(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("algo", ["mappo", "maddpg"])
def test_training_is_deterministic_for_a_seed(algo):
    def run(seed: int) -> list[torch.Tensor]:
        env = make_batched_env("spread-v0", 8, seed=seed)
        if algo == "mappo":
            trainer = MAPPO(env, MAPPOConfig(num_envs=8, rollout_steps=5, epochs=2, minibatches=2), seed=seed)
        else:
            trainer = MADDPG(env, MADDPGConfig(num_envs=8, warmup=16, batch_size=16, update_every=8), seed=seed)
        for _ in range(3):
            trainer.iterate()
        return _parameters(trainer.policy)

    first, second, other = run(3), run(3), run(4)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_maddpg_policy_ensemble_draws_sub_policies_per_world():
    env = make_batched_env("spread-v0", 6, seed=0)
    trainer = MADDPG(env, MADDPGConfig(num_envs=6, warmup=12, batch_size=8, update_every=6, ensemble=3), seed=0)
    assert trainer.members.shape == (6, 3) and trainer.members.max() < 3
    logits = trainer.ensemble_logits(trainer.policy, trainer.obs)
    assert logits.shape == (6, 3, 3, env.num_actions)
    stats = trainer.iterate() | trainer.iterate() | trainer.iterate()
    assert np.isfinite(stats["critic_loss"]) and np.isfinite(stats["actor_loss"])


def test_gumbel_softmax_samples_the_softmax_and_temperature_only_shapes_the_gradient():
    logits = torch.tensor([[1.0, 0.0, -1.0, 0.5, -2.0]]).expand(200_000, 5).clone().requires_grad_(True)
    samples = {t: gumbel_softmax(logits, t, torch.Generator().manual_seed(0)) for t in (1.0, 0.5)}
    draws = {t: sample.detach().argmax(-1) for t, sample in samples.items()}
    assert torch.equal(draws[1.0], draws[0.5])  # the same hard one-hot draws at any temperature
    frequencies = torch.bincount(draws[1.0], minlength=5) / len(draws[1.0])
    assert torch.allclose(frequencies, torch.softmax(logits[0].detach(), -1), atol=4e-3)
    weights = torch.tensor([3.0, -1.0, 2.0, 0.0, 1.0])
    uniform = torch.rand(logits.shape, generator=torch.Generator().manual_seed(0)).clamp(1e-10, 1 - 1e-10)
    gumbel = -torch.log(-torch.log(uniform))  # the noise both samples drew
    gradients = {}
    for t, sample in samples.items():
        (gradient,) = torch.autograd.grad((sample * weights).sum(), logits)
        relaxed = torch.softmax((logits + gumbel) / t, -1)
        (expected,) = torch.autograd.grad((relaxed * weights).sum(), logits)
        assert torch.allclose(gradient, expected, atol=1e-6)  # straight-through: the relaxed sample's gradient
        gradients[t] = gradient
    assert not torch.allclose(gradients[1.0], gradients[0.5])
