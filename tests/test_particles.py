"""Particle worlds: MPE2 equivalence, the batched API, auto-reset, determinism, pursuit sensing, views, heuristics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pettingzoo.test import parallel_api_test

import arena
from arena.core import ParameterError, UnknownNameError
from arena.envs.particles import ENTITY_DIM, OWN_DIM, core, make_vector_env
from arena.envs.particles import pursuit as pursuit_module
from arena.envs.particles.core import MOVE_DIRECTIONS
from arena.envs.particles.mpe import AdversaryEnv
from arena.registry import vector_envs

SCENARIOS = vector_envs()  # the particle worlds: the envs registered with a batched version


def _mpe2(name: str, continuous: bool):
    module = {"spread-v0": "simple_spread_v3", "adversary-v0": "simple_adversary_v3", "tag-v0": "simple_tag_v3"}[name]
    return pytest.importorskip(f"mpe2.{module}").parallel_env(continuous_actions=continuous)


def _copy_state(ours, world) -> None:
    if isinstance(ours, AdversaryEnv):
        ours.goal[0] = world.landmarks.index(world.agents[0].goal_a)
    ours.set_world(0, [e.state.p_pos for e in world.agents + world.landmarks], [a.state.p_vel for a in world.agents])


@pytest.mark.parametrize("continuous", [False, True])
@pytest.mark.parametrize("env_id", ["spread-v0", "adversary-v0", "tag-v0"])
def test_matches_mpe2_from_the_same_state(env_id: str, continuous: bool) -> None:
    """Same state, same actions: MPE2 and arena give the same observations and rewards for whole episodes."""
    reference = _mpe2(env_id, continuous)
    observations, _ = reference.reset(seed=5)
    world = reference.aec_env.unwrapped.world
    # Start two agents overlapping, so contact forces and collision rewards are exercised from the first step.
    world.agents[1].state.p_pos = world.agents[0].state.p_pos + np.array([0.05, 0.02])
    ours = make_vector_env(env_id, 1, continuous_actions=continuous)
    _copy_state(ours, world)
    observations = {a: reference.aec_env.unwrapped.observe(a) for a in reference.possible_agents}
    rng = np.random.default_rng(0)
    agents = reference.possible_agents
    for _ in range(25):
        for j, agent in enumerate(agents):
            width = len(observations[agent])
            np.testing.assert_allclose(ours.obs[0, j, :width].numpy(), observations[agent], atol=1e-4)
            assert not ours.obs[0, j, width:].any()  # zero padding
        if continuous:
            actions = rng.uniform(0, 1, (len(agents), 5)).astype(np.float32)
        else:  # scripted moves half of the time, so that chases and contacts happen
            actions = np.where(
                rng.random(len(agents)) < 0.5, ours.heuristic_actions()[0].numpy(), rng.integers(0, 5, len(agents))
            )
        observations, rewards, *_ = reference.step({a: actions[j] for j, a in enumerate(agents)})
        _, our_rewards, _, _, info = ours.step(torch.as_tensor(actions)[None])
        expected = np.array([rewards[a] for a in agents])
        np.testing.assert_allclose(our_rewards[0].numpy(), expected, atol=1e-4)
        final = info["final_obs"]
    assert bool(info["done_mask"][0]) and not reference.agents
    for j, agent in enumerate(agents):
        np.testing.assert_allclose(final[0, j, : len(observations[agent])].numpy(), observations[agent], atol=1e-4)


@pytest.mark.parametrize("env_id", ["spread-v0", "tag-v0"])
def test_skipping_negligible_contacts_changes_no_position_and_no_reward(env_id: str, monkeypatch) -> None:
    """Pairs whose contact force is below 1e-38 are given 0 without computing it. Against the full computation, over
    whole episodes of thousands of worlds: the same positions and rewards, bit for bit, velocities within 1e-30."""

    def run() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        env = make_vector_env(env_id, 2048, seed=4)
        generator = torch.Generator().manual_seed(5)
        positions, velocities, rewards, negligible = [], [], [], 0
        for _ in range(50):
            x = (env._pair_range - core.norm2(env.pos[env._pair_a] - env.pos[env._pair_b], dim=1)) / core.CONTACT_MARGIN
            negligible += int(((x > -104) & (x < math.log(2.0**-126))).sum())  # where e^x is a denormal float
            _, reward, *_ = env.step(torch.randint(0, 5, (2048, env.num_agents), generator=generator))
            positions.append(env.pos.clone())
            velocities.append(env.vel.clone())
            rewards.append(reward)
        return torch.stack(positions), torch.stack(velocities), torch.stack(rewards), negligible

    pos, vel, rewards, negligible = run()
    monkeypatch.setattr(core, "NEGLIGIBLE_CONTACT", -math.inf)
    full_pos, full_vel, full_rewards, _ = run()
    assert negligible > 100  # the skipped range is exercised
    assert torch.equal(pos, full_pos) and torch.equal(rewards, full_rewards)
    torch.testing.assert_close(vel, full_vel, rtol=0, atol=1e-30)


@pytest.mark.parametrize("env_id", ["spread-v0", "tag-v0"])
def test_contact_forces_equal_mpe2s_loop_over_pairs(env_id: str) -> None:
    """Crowded worlds (every pair near or in contact, obstacles included): the batched pairwise forces against MPE2's
    loop over entity pairs in float64 (+f on a, -f on b where b moves)."""
    env = make_vector_env(env_id, 64, seed=0)
    env.pos = torch.randn(env.pos.shape, generator=torch.Generator().manual_seed(1)) * 0.15
    colliders = env.num_agents if env_id == "spread-v0" else env.num_entities  # tag's obstacles collide too
    pos, size = env.pos.double().numpy(), env.sizes.double().numpy()
    expected = np.zeros((env.num_agents, 2, env.num_envs))
    for a in range(env.num_entities):
        for b in range(a + 1, env.num_entities):
            if b >= colliders or a >= env.num_agents:  # a non-collider, or two obstacles
                continue
            delta = pos[a] - pos[b]
            dist = np.sqrt((delta**2).sum(axis=0))
            k = core.CONTACT_MARGIN
            force = core.CONTACT_FORCE * delta / dist * np.logaddexp(0, -(dist - size[a] - size[b]) / k) * k
            expected[a] += force
            if b < env.num_agents:
                expected[b] -= force
    assert np.abs(expected).max() > 10  # hard contacts happen
    np.testing.assert_allclose(env._contact_forces().numpy(), expected, rtol=1e-4, atol=1e-4)


def test_collision_penalty_and_contact_force_are_real() -> None:
    env = make_vector_env("spread-v0", 1, local_ratio=1.0)
    env.set_world(0, [[0, 0], [0.1, 0], [0.9, 0.9], [0.5, 0.5], [-0.5, 0.5], [0.5, -0.5]], np.zeros((3, 2)))
    _, rewards, *_ = env.step(torch.zeros(1, 3, dtype=torch.long))
    assert rewards[0].tolist() == [-1.0, -1.0, 0.0]
    assert env.vel[0, 0, 0] < 0 < env.vel[1, 0, 0]  # pushed apart


@pytest.mark.parametrize("env_id", list(SCENARIOS))
def test_batched_api_shapes_and_auto_reset(env_id: str) -> None:
    env = make_vector_env(env_id, 6, seed=3, max_steps=4)
    B, N = env.num_envs, env.num_agents
    assert len(env.agent_names) == len(env.teams) == N and env.num_actions == 5
    obs = env.reset(seed=3)
    assert obs.shape == (B, N, env.obs_dim) and obs.dtype == torch.float32
    assert env.state().shape == (B, env.state_dim)
    total = torch.zeros(B, N)
    first = obs.clone()
    for t in range(4):
        actions = torch.randint(0, 5, (B, N))
        obs, rewards, terminated, truncated, info = env.step(actions)
        assert rewards.shape == (B, N) and terminated.shape == truncated.shape == (B,)
        assert terminated.dtype == truncated.dtype == torch.bool
        total += rewards
        if t < 3:
            assert not info["done_mask"].any() and torch.equal(info["final_obs"], obs)
        if t == 2:
            assert not torch.equal(obs, first)
    assert info["done_mask"].all() and truncated.all() and not terminated.any()
    torch.testing.assert_close(info["episode_return"], total)
    assert not torch.equal(info["final_obs"], obs)  # the worlds restarted
    assert (env.t == 0).all() and (env.returns == 0).all() and (env.vel == 0).all()


@pytest.mark.parametrize("env_id", list(SCENARIOS))
def test_same_seed_same_run_different_seed_different_run(env_id: str) -> None:
    def run(seed: int) -> list[torch.Tensor]:
        env = make_vector_env(env_id, 4, seed=seed, max_steps=5)
        out = [env.reset(seed=seed)]
        generator = torch.Generator().manual_seed(0)
        for _ in range(12):  # crosses two automatic resets
            obs, rewards, *_ = env.step(torch.randint(0, 5, (4, env.num_agents), generator=generator))
            out += [obs, rewards]
        return out

    first, again, other = run(11), run(11), run(12)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0])


@pytest.mark.parametrize("env_id", list(SCENARIOS))
def test_continuous_actions(env_id: str) -> None:
    env = make_vector_env(env_id, 3, seed=0, continuous_actions=True)
    assert env.continuous and env.action_dim == 5
    actions = env.heuristic_actions()
    assert actions.shape == (3, env.num_agents, 5) and actions.min() >= 0 and actions.max() <= 1
    obs, *_ = env.step(actions)
    assert torch.isfinite(obs).all()


def test_heuristics_beat_random_play() -> None:
    """Mean episode return of a team over 64 worlds: its scripted policy beats random moves, the others random."""

    def team_return(env_id: str, team: int, scripted: bool, **params) -> float:
        env = make_vector_env(env_id, 64, seed=0, **params)
        mine = torch.tensor(env.teams) == team
        generator = torch.Generator().manual_seed(0)
        while True:
            random = torch.randint(0, 5, (64, env.num_agents), generator=generator)
            actions = torch.where(mine, env.heuristic_actions(), random) if scripted else random
            _, _, _, _, info = env.step(actions)
            if info["done_mask"].all():
                return float(info["episode_return"][:, mine].mean())

    for env_id, team, margin in [
        ("spread-v0", 0, 10.0),
        ("adversary-v0", 0, 5.0),
        ("adversary-v0", 1, 2.0),
        ("tag-v0", 0, 10.0),
        ("tag-v0", 1, 5.0),
    ]:
        assert team_return(env_id, team, True) > team_return(env_id, team, False) + margin, (env_id, team)
    assert team_return("pursuit-v0", 0, True, max_steps=50) > 1.4 * team_return("pursuit-v0", 0, False, max_steps=50)


def test_heuristic_agent_in_a_match_moves_like_the_batched_heuristic() -> None:
    env = arena.make_env("spread-v0")
    result = arena.play(env, ["heuristic"] * 3, seed=4)
    world = make_vector_env("spread-v0", 1)
    world.reset(seed=4)
    total = torch.zeros(3)
    for _ in range(25):
        _, rewards, *_ = world.step(world.heuristic_actions())
        total += rewards[0]
    np.testing.assert_allclose(result.payoffs, total.numpy(), rtol=1e-5)
    assert result.length == 25 and result.termination == "normal"


def test_pursuit_observation_layout_against_brute_force() -> None:
    env = make_vector_env("pursuit-v0", 2, seed=1, n_pursuers=12, n_targets=9, max_observed=5, sensing_radius=2.0)
    obs = env.obs
    assert env.obs_dim == OWN_DIM + 5 * ENTITY_DIM
    for b in range(2):
        points = env.positions(b)
        for i in range(12):
            slots = obs[b, i, OWN_DIM:].reshape(5, ENTITY_DIM).numpy()
            rel = points - points[i]
            dist = np.hypot(rel[:, 0], rel[:, 1])
            dist[i] = np.inf
            near = [j for j in np.argsort(dist) if dist[j] < 2.0][:5]
            assert slots[:, 0].tolist() == [1.0] * len(near) + [0.0] * (5 - len(near))
            assert not slots[len(near) :].any()
            for slot, j in zip(slots, near):
                np.testing.assert_allclose(slot[1], dist[j] / 2.0, atol=1e-5)
                np.testing.assert_allclose(slot[2:4], rel[j] / dist[j], atol=1e-4)
                assert slot[4] == float(j >= 12) and slot[5] == float(j < 12)
            np.testing.assert_allclose(obs[b, i, 2:4].numpy(), points[i] / env.half_width, atol=1e-6)


def test_pursuit_chunked_search_equals_one_block(monkeypatch) -> None:
    whole = make_vector_env("pursuit-v0", 3, seed=2, n_pursuers=40, n_targets=30)
    monkeypatch.setattr(pursuit_module, "CHUNK_ELEMENTS", 3 * 70 * 7)  # seven pursuers per chunk
    chunked = make_vector_env("pursuit-v0", 3, seed=2, n_pursuers=40, n_targets=30)
    assert torch.equal(whole.obs, chunked.obs)
    actions = whole.heuristic_actions()
    a, ra, *_ = whole.step(actions)
    b, rb, *_ = chunked.step(actions)
    assert torch.equal(a, b) and torch.equal(ra, rb)


def test_pursuit_rewards_average_to_coverage_and_targets_stay_inside() -> None:
    env = make_vector_env("pursuit-v0", 4, seed=0, n_pursuers=6, n_targets=5, max_steps=30)
    for _ in range(20):
        _, rewards, *_ = env.step(env.heuristic_actions())
        torch.testing.assert_close(rewards.mean(dim=1), env.coverage())
        assert (env.pos.abs() <= env.half_width + 1e-5).all()


def test_pursuit_thousand_by_thousand_step() -> None:
    env = make_vector_env("pursuit-v0", 1, seed=0, n_pursuers=1000, n_targets=1000)
    obs, rewards, *_ = env.step(env.heuristic_actions())
    assert obs.shape == (1, 1000, OWN_DIM + 8 * ENTITY_DIM) and rewards.shape == (1, 1000)
    present = obs[0, :, OWN_DIM::ENTITY_DIM]
    assert 0.5 < present.sum(dim=1).mean() < 8  # a few neighbours each, as the default field size intends
    assert env.state().shape == (1, 4 * 2000)


@pytest.mark.parametrize("env_id", list(SCENARIOS))
def test_pettingzoo_view(env_id: str) -> None:
    env = arena.make_env(env_id)
    parallel_api_test(env, num_cycles=30)
    observations, infos = env.reset(seed=1)
    agent = env.possible_agents[0]
    assert infos[agent]["legal_actions"] == [0, 1, 2, 3, 4] and infos[agent]["action_names"][0] == "no-op"
    assert "Legal moves" in infos[agent]["text"] and agent in infos[agent]["text"]
    assert env.state().shape == env.state_space.shape
    assert env.zero_sum is False and env.min_utility < env.max_utility


def test_pettingzoo_view_continuous_and_episode_end() -> None:
    env = arena.make_env("tag-v0", continuous_actions=True, max_steps=3)
    parallel_api_test(env, num_cycles=10)
    env.reset(seed=0)
    for _ in range(3):
        _, _, _, truncations, infos = env.step({a: np.full(5, 0.5, np.float32) for a in env.agents})
    assert all(truncations.values()) and env.agents == []
    assert "over" in next(iter(infos.values()))["text"]


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(UnknownNameError, match="spread-v0"):
        make_vector_env("sprad-v0", 2)
    with pytest.raises(ParameterError, match="no parameter"):
        make_vector_env("spread-v0", 2, n_agents=3)
    with pytest.raises(ParameterError):
        make_vector_env("spread-v0(N=0)", 2)
    env = make_vector_env("spread-v0", 2)
    with pytest.raises(ParameterError, match="shape"):
        env.step(torch.zeros(3, 3, dtype=torch.long))
    for move in (-1, 5):  # never another agent's entry of the force table
        with pytest.raises(ParameterError, match="moves 0..4"):
            env.step(torch.full((2, 3), move))
    with pytest.raises(ParameterError):
        make_vector_env("pursuit-v0", 1, device="nonsense")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_physics() -> None:
    cpu = make_vector_env("tag-v0", 8, seed=0)
    gpu = make_vector_env("tag-v0", 8, device="cuda", seed=0)
    gpu.set_world(0, cpu.positions(0), cpu.vel[:, :, 0].numpy())
    cpu.set_world(1, cpu.positions(0), cpu.vel[:, :, 0].numpy())
    actions = cpu.heuristic_actions()
    _, rewards_cpu, *_ = cpu.step(actions)
    _, rewards_gpu, *_ = gpu.step(actions.cuda())
    assert math.isclose(float(rewards_cpu[1, 0]), float(rewards_gpu[0, 0].cpu()), abs_tol=1e-4)


@pytest.mark.parametrize("env_id", list(SCENARIOS))
def test_observations_are_written_batch_first_and_equal_the_formula_exactly(env_id: str) -> None:
    """Linear scenarios observe through one matrix product of the state rows; it must round as the formula does."""
    env = make_vector_env(env_id, 300, seed=1)
    assert env.linear_observations == (env_id in ("spread-v0", "tag-v0"))
    generator = torch.Generator().manual_seed(2)
    scale = torch.tensor([1e-3, 1.0, 7.0, 1e3]).repeat_interleave(75)  # small and large coordinates alike
    env.pos = torch.randn(env.pos.shape, generator=generator) * scale
    env.vel = torch.randn(env.vel.shape, generator=generator) * scale
    if env_id == "pursuit-v0":
        env._track()
    obs = env._observe()
    assert obs.shape == (300, env.num_agents, env.obs_dim) and obs.is_contiguous()
    assert torch.equal(obs, env._observations().permute(2, 0, 1))
    if env.linear_observations:
        weights = env._obs_map
        assert set(weights.unique().tolist()) <= {-1.0, 0.0, 1.0} and int((weights != 0).sum(dim=0).max()) <= 2
    step = env.step(torch.zeros(300, env.num_agents, dtype=torch.long))
    assert all(t.is_contiguous() for t in (step[0], step[1], step[4]["final_obs"]))


def test_discrete_moves_push_along_the_direction_table() -> None:
    env = make_vector_env("tag-v0", 2, seed=0)
    for move, (x, y) in enumerate(MOVE_DIRECTIONS):
        force = env._action_forces(torch.full((2, env.num_agents), move))
        expected = torch.tensor([x, y])[None, :, None] * env.accel
        assert torch.equal(force, expected.expand(-1, -1, 2))
