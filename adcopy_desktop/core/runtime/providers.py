"""Which ONNX Runtime execution providers to ask for, from what this machine's onnxruntime offers."""

from __future__ import annotations

import logging
import sys

from adcopy_desktop.core.errors import ModelError

logger = logging.getLogger("adcopy.runtime")

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
DIRECTML = "DmlExecutionProvider"

PREFERENCE_ALIASES = {
    "cpu": CPU,
    "cuda": CUDA,
    "gpu": CUDA,
    "directml": DIRECTML,
    "dml": DIRECTML,
}

HOW_TO_GET = {
    CUDA: "install the 'onnxruntime-gpu' package in place of 'onnxruntime' and an NVIDIA driver "
    "with matching CUDA and cuDNN libraries",
    DIRECTML: "on Windows, install the 'onnxruntime-directml' package in place of 'onnxruntime'",
}


def select_providers(
    available: list[str], preference: str = "auto", platform: str = sys.platform
) -> list[str]:
    """Providers to pass to InferenceSession, best first, always ending with the CPU fallback.

    "auto" never fails: it takes the fastest provider present. A named preference that is not
    present raises ModelError, so the user learns why their GPU is not being used.
    """
    wanted = preference.strip()
    if wanted.lower() == "auto":
        if CUDA in available:
            chosen = CUDA
        elif DIRECTML in available and platform == "win32":
            chosen = DIRECTML
        else:
            chosen = CPU
    else:
        chosen = PREFERENCE_ALIASES.get(wanted.lower(), wanted)
        if chosen != CPU and chosen not in available:
            present = ", ".join(available) or "none"
            hint = HOW_TO_GET.get(chosen, "install an onnxruntime build that includes it")
            raise ModelError(
                f"The execution provider '{preference}' ({chosen}) is not available in this "
                f"onnxruntime; available: {present}. To use it, {hint}; or choose 'auto' or 'cpu'."
            )
    providers = [chosen] if chosen == CPU else [chosen, CPU]
    logger.info("Execution providers: %s (preference %r, available %s)", providers, preference, available)
    return providers
