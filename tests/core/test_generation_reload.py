"""The generator follows the model store's pointer without a restart: a new version or a rollback
is used by the next generation, a style with its own version uses it, and a generation in flight
finishes on the model it started with. Tiny real ONNX models."""

from __future__ import annotations

import shutil
import threading

from adcopy_desktop.core.candidates import GenerationSettings
from adcopy_desktop.core.generation import CopyGenerator
from adcopy_desktop.core.model_store import ModelStore
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.prompts import CopyKind, CopyRequest

REQUEST = CopyRequest(parse_product("Type: denim jacket\nColor: white"), CopyKind.DESCRIPTION, language="en")
GREEDY = GenerationSettings(n=1, max_new_tokens=6, temperature=0.0)


def new_version(store: ModelStore, parent_id: str, **kwargs):
    staging = store.new_version_staging(parent_id)
    shutil.copytree(store.get(parent_id).folder / "hf", staging / "hf")
    shutil.copytree(store.get(parent_id).folder / "onnx", staging / "onnx")
    return store.commit_version(staging, parent_id=parent_id, metadata={}, **kwargs)


def model_of(generator: CopyGenerator, style=None) -> str:
    [candidate] = generator.generate(REQUEST, GREEDY, style=style, score=False)
    return candidate.model


def test_next_generation_uses_a_swapped_in_version_and_a_rollback(tiny_store):
    generator = CopyGenerator(tiny_store)
    assert model_of(generator) == "tiny-llama"
    first_backend = generator.backend
    v1 = new_version(tiny_store, "tiny-llama")
    assert model_of(generator) == v1.id and generator.model_id == v1.id
    assert generator.backend is not first_backend
    same_backend = generator.backend
    assert model_of(generator) == v1.id and generator.backend is same_backend  # no reload without a change
    tiny_store.rollback()
    assert model_of(generator) == "tiny-llama"


def test_a_style_with_its_own_version_uses_it_the_others_the_global_model(tiny_store):
    styled = new_version(tiny_store, "tiny-llama", style="plain")
    generator = CopyGenerator(tiny_store)
    assert model_of(generator, style="plain") == styled.id
    assert model_of(generator) == "tiny-llama"
    assert model_of(generator, style="plain") == styled.id


def test_a_fixed_model_id_is_not_moved_by_the_pointer(tiny_store):
    generator = CopyGenerator(tiny_store, model_id="tiny-llama")
    new_version(tiny_store, "tiny-llama")
    assert model_of(generator) == "tiny-llama"


def test_a_generation_in_flight_finishes_on_the_model_it_started_with(tiny_store):
    v1 = new_version(tiny_store, "tiny-llama", activate=False)
    generator = CopyGenerator(tiny_store)
    swapped = threading.Event()

    def on_token(index: int, text: str) -> None:
        if not swapped.is_set():
            tiny_store.set_active(v1.id)  # training finished mid-generation
            swapped.set()

    settings = GenerationSettings(n=2, max_new_tokens=12, temperature=0.0)
    candidates = generator.generate(REQUEST, settings, on_token=on_token, score=False)
    assert swapped.is_set()
    assert {c.model for c in candidates} == {"tiny-llama"}
    assert all(c.finish_reason in ("stop", "length") for c in candidates)
    assert model_of(generator) == v1.id
