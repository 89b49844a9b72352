"""Magnetic mirror descent (MMD): the last-iterate baseline for regularised equilibrium learning.

From "A Unified Approach to Reinforcement Learning, Quantal Response Equilibria, and Two-Player Zero-Sum Games"
(Sokota, D'Orazio, Kolter, Loizou, Lanctot, Mitliagkas, Brown & Kroer, ICLR 2023). Each player takes one mirror
descent step of size eta on its payoff regularised by alpha * KL(pi || magnet), all players simultaneously:

    pi_{t+1} = argmax_pi  eta * (<g(pi_t), pi> - alpha * KL(pi || magnet)) - KL(pi || pi_t),
    i.e. pi_{t+1} ∝ [pi_t * magnet^{eta*alpha} * exp(eta * g(pi_t))]^{1/(1+eta*alpha)}

per information set, with the dilated KL on extensive-form games (arena.agents.dilated). The last iterate converges
linearly to the alpha-regularised equilibrium (the quantal response equilibrium with the magnet as prior), whose
exploitability is O(alpha). It is Nash mirror prox without the extrapolation step, which is why Nash-MP is
compared with it.
"""

from __future__ import annotations

import numpy as np

from arena.agents.dilated import counterfactual_utilities, proximal_step, realization_plans, reference_log_probs
from arena.games.policy import TabularPolicy
from arena.games.solve import Solver, check_positive
from arena.games.tree import TabularGame


class MagneticMirrorDescent(Solver, name="mmd"):
    """MMD self-play with step size `eta`, regularisation `alpha` toward `magnet`; plays the last iterate.

    `magnet` is "uniform" (the default; None is the same), "counting", a policy file, or an agent spec probed at
    every information set. "counting" is the counting measure (weight 1 on every legal action, not normalised):
    KL to it is the negative dilated entropy, the regulariser of OpenSpiel's `MMDDilatedEnt`, whose iterates this
    then reproduces. The uniform magnet is the counting measure normalised per infoset: the two regularisers
    differ by alpha * sum_I x(parent(I)) * log |A(I)|, a term linear in the realization plan that rewards the
    sequences followed by more (or wider) infosets, so their iterates and regularised equilibria differ (on Kuhn
    poker too, where every infoset has two actions).
    """

    positive = ("eta", "alpha")

    def __init__(
        self, game: TabularGame, eta: float = 0.5, alpha: float = 0.01, magnet: str | None = "uniform"
    ) -> None:
        check_positive("mmd", eta=eta, alpha=alpha)
        super().__init__(game)
        self.eta = eta
        self.alpha = alpha
        if magnet == "counting":
            self.log_magnet = [np.where(tree.legal, 0.0, -np.inf) for tree in game.players]
            self.log_probs = reference_log_probs(game, None)  # the iterates start uniform either way
        else:
            self.log_magnet = reference_log_probs(game, None if magnet == "uniform" else magnet)
            self.log_probs = [lp.copy() for lp in self.log_magnet]

    def iteration(self) -> None:
        gradients = counterfactual_utilities(self.game, realization_plans(self.game, self.log_probs))
        self.log_probs = [
            proximal_step(tree, gradient, center, magnet, self.eta, self.alpha)
            for tree, gradient, center, magnet in zip(self.game.players, gradients, self.log_probs, self.log_magnet)
        ]

    def policy(self) -> TabularPolicy:
        return TabularPolicy(self.game, [np.exp(lp) for lp in self.log_probs])
