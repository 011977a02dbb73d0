import logging

import pytest

from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.runtime import select_providers

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
DML = "DmlExecutionProvider"


@pytest.mark.parametrize(
    ("available", "platform", "expected"),
    [
        ([CPU], "linux", [CPU]),
        ([CUDA, CPU], "linux", [CUDA, CPU]),
        ([DML, CPU], "win32", [DML, CPU]),
        ([DML, CPU], "linux", [CPU]),
        ([DML, CUDA, CPU], "win32", [CUDA, CPU]),
        (["AzureExecutionProvider", CPU], "darwin", [CPU]),
        ([CUDA], "linux", [CUDA, CPU]),
    ],
)
def test_auto_prefers_cuda_then_directml_and_keeps_cpu_last(available, platform, expected):
    assert select_providers(available, "auto", platform=platform) == expected


@pytest.mark.parametrize(
    ("preference", "available", "expected"),
    [
        ("cuda", [CUDA, CPU], [CUDA, CPU]),
        ("CUDA", [CUDA, CPU], [CUDA, CPU]),
        ("directml", [DML, CPU], [DML, CPU]),
        ("cpu", [CUDA, CPU], [CPU]),
        (DML, [DML, CPU], [DML, CPU]),
        ("cpu", [], [CPU]),
    ],
)
def test_explicit_preference(preference, available, expected):
    assert select_providers(available, preference, platform="win32") == expected


@pytest.mark.parametrize(("preference", "package"), [("cuda", "onnxruntime-gpu"), ("directml", "onnxruntime-directml")])
def test_missing_provider_says_what_is_there_and_how_to_get_it(preference, package):
    with pytest.raises(ModelError) as raised:
        select_providers(["AzureExecutionProvider", CPU], preference, platform="win32")
    message = str(raised.value)
    assert package in message
    assert CPU in message and "AzureExecutionProvider" in message


def test_unknown_full_name_is_refused():
    with pytest.raises(ModelError, match="OpenVINOExecutionProvider"):
        select_providers([CPU], "OpenVINOExecutionProvider")


def test_choice_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="adcopy.runtime"):
        select_providers([CUDA, CPU])
    assert any(CUDA in record.getMessage() for record in caplog.records)
