"""The built wheel carries the data files and imports as klarjournal.*, never as bare names."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "lexicon", "service", "models", "evaluation")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
                    str(ROOT)], check=True, timeout=600)
    return next(out.glob("klarjournal-*.whl"))


def test_wheel_contains_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [p for p in (ROOT / "lexicon" / "data").rglob("*") if p.is_file()]
    expected += [ROOT / "pipeline" / "configs" / "default.cfg"]
    expected += [p for p in (ROOT / "evaluation" / "corpus").glob("*.jsonl")]
    missing = [str(p.relative_to(ROOT)) for p in expected
               if f"klarjournal/{p.relative_to(ROOT)}" not in names]
    assert missing == []


def test_wheel_has_no_top_level_package_outside_klarjournal(wheel):
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.startswith("klarjournal")} == set()


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                    "--target", str(target), str(wheel)], check=True, timeout=600)
    return target


def run_outside_checkout(installed: Path, code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_installed_wheel_translates_from_outside_the_checkout(installed, tmp_path):
    code = ("import klarjournal.pipeline as p; t = p.load_translator(use_model=False); "
            "print(p.__file__); print(t.translate('Pt. har dyspnø.').plain)")
    result = run_outside_checkout(installed, code, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    module_file, plain = result.stdout.strip().splitlines()[-2:]
    assert module_file.startswith(str(installed))
    assert plain == "Patienten har åndenød."


@pytest.mark.parametrize("bare", PACKAGES)
def test_bare_package_names_do_not_import(installed, tmp_path, bare):
    result = run_outside_checkout(installed, f"import {bare}", tmp_path)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr
