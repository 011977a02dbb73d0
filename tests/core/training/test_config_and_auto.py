"""Training settings and automatic mode."""

import pytest

from adcopy_desktop.core.candidates import Candidate, GenerationSettings
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.product import parse_product
from adcopy_desktop.core.settings import Settings
from adcopy_desktop.core.training.auto import newly_accepted, record_training_point, should_train
from adcopy_desktop.core.training.config import TrainingConfig, TrainingError


def test_defaults_are_valid_and_every_field_is_shown_with_help():
    rows = TrainingConfig.fields_for_display()
    names = [row["name"] for row in rows]
    for name in ("method", "learning_rate", "epochs", "batch_size", "lora_rank", "holdout_share",
                 "early_stopping_patience", "gate_margin", "preference", "min_pairs", "style"):
        assert name in names
    assert all(row["help"] for row in rows)
    assert next(r for r in rows if r["name"] == "method")["choices"] == ["lora", "top_layers", "full"]


def test_overrides_apply_in_order_and_ignore_unknown_or_empty_values():
    config = TrainingConfig.from_overrides({"epochs": 5, "lora_rank": 4, "unknown": 1}, {"epochs": 2, "batch_size": None})
    assert (config.epochs, config.lora_rank, config.batch_size) == (2, 4, TrainingConfig().batch_size)


def test_bad_values_are_refused_with_every_problem_named():
    with pytest.raises(TrainingError) as error:
        TrainingConfig(method="magic", holdout_share=1.5, epochs=0)
    message = str(error.value)
    assert "method" in message and "holdout_share" in message and "epochs" in message


def accept_new_copy(library, count):
    for index in range(count):
        pid = library.add_product(parse_product(f"Type: item {index}"))
        [cid] = library.record_generation(pid, [Candidate(text=f"copy {index}", kind="title", model="m", language="en",
                                                          settings=GenerationSettings(n=1))])
        library.decide(cid, "accepted")


def test_automatic_mode_is_off_by_default_and_counts_copy_since_the_last_training(tmp_path):
    with Library(tmp_path / "library.sqlite3") as library:
        accept_new_copy(library, 3)
        assert not should_train(library, Settings())
        settings = Settings(auto_training_after=3)
        assert newly_accepted(library) == 3 and should_train(library, settings)
        record_training_point(library)
        assert newly_accepted(library) == 0 and not should_train(library, settings)
        accept_new_copy(library, 2)
        assert not should_train(library, settings)
        accept_new_copy(library, 1)
        assert should_train(library, settings)
