"""Checkpoints: `torch.save` of plain data (the policy's weights, how to rebuild it, the config that trained it),
read back with `torch.load(weights_only=True)`.

Format 1, a dict:

    format       1
    policy       {"network": kind, "network_args": constructor arguments, "meta": what it was trained on}
    state_dict   the actor's weights (CPU tensors)
    config       the run's config.json
    extra        env steps, evaluation return, seed, ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from arena.agents.marl.networks import Policy
from arena.errors import ConfigError

CHECKPOINT_FORMAT = 1


def _plain(value: Any) -> Any:
    """Plain Python data (lists instead of tuples), which `torch.load(weights_only=True)` accepts."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def save_checkpoint(path: str | Path, policy: Policy, config: dict[str, Any], extra: dict[str, Any]) -> None:
    """Write the policy's weights, how to rebuild it, and the config that trained it (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "policy": _plain(policy.spec()),
        "state_dict": {k: v.detach().cpu() for k, v in policy.actor.state_dict().items()},
        "config": _plain(config),
        "extra": _plain(extra),
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[Policy, dict[str, Any]]:
    """The policy stored at `path` (loaded with `weights_only=True`, in eval mode) and the whole checkpoint record."""
    try:
        payload = torch.load(Path(path), map_location=device, weights_only=True)
    except FileNotFoundError:
        raise ConfigError(f"no checkpoint at {path}") from None
    except Exception as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__
        raise ConfigError(f"{path} is not an arena checkpoint: {reason}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{path} is not an arena checkpoint (format {CHECKPOINT_FORMAT})")
    try:
        spec = payload["policy"]
        policy = Policy(spec["network"], spec["network_args"], spec["meta"]).to(device)
        policy.actor.load_state_dict(payload["state_dict"])
    except KeyError as exc:
        raise ConfigError(f"{path} is not an arena checkpoint: it has no {exc.args[0]!r}") from None
    except Exception as exc:  # wrong shapes, a network that cannot be built from its arguments
        raise ConfigError(f"{path} is a damaged checkpoint: {str(exc).splitlines()[0][:200]}") from None
    policy.eval()
    return policy, payload
