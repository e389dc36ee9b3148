"""Build the spaCy pipeline from ``configs/default.cfg`` plus overrides.

Config flows one way: the CLI, the service and evaluation turn their options into dotted
overrides, and this is the only place that turns a config into a pipeline.
"""

from importlib import resources
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language


def default_config_path() -> Path:
    return Path(str(resources.files("klarjournal.pipeline") / "configs" / "default.cfg"))


def build_nlp(
    lexicon_dir: str | Path | None = None,
    overlays: list[str | Path] | tuple[str | Path, ...] = (),
    model_path: str | Path | None = None,
    use_model: bool = True,
    overrides: dict[str, Any] | None = None,
    config_path: str | Path | None = None,
) -> Language:
    settings: dict[str, Any] = {
        "paths.lexicon_dir": str(lexicon_dir) if lexicon_dir else None,
        "paths.overlays": [str(Path(p).resolve()) for p in overlays],
        "paths.model_path": str(model_path) if model_path else None,
        "components.klarjournal_senses.use_model": use_model,
        **(overrides or {}),
    }
    config = spacy.util.load_config(config_path or default_config_path(), overrides=settings,
                                    interpolate=False)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    nlp.initialize()
    return nlp
