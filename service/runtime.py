"""Process set-up for `klarjournal serve`, applied before the pipeline is imported.

Not applied by ``create_app`` itself: tests build apps in a process that also loads torch.
"""

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable

from klarjournal.service.deps import TranslatorLike
from klarjournal.service.settings import Settings

# glibc malloc settings, as environment variables (read by glibc when a process starts, so
# inherited by uvicorn's spawned workers) and the mallopt parameter that sets each at run time.
MALLOC_ENV = {
    # Every thread that allocates gets its own arena (up to 8 per core), and memory freed in
    # one arena is not reused by another: RSS creeps up under threaded load. Two are enough
    # for the event loop and the pipeline lane.
    "MALLOC_ARENA_MAX": ("2", -8),
    # glibc raises its mmap threshold each time a large block is freed, so torch's activation
    # tensors (sizes vary with each batch) end up on the heap, fragment it and are never given
    # back: +170 MB RSS after a few hundred model calls. A fixed threshold keeps blocks over
    # 256 KiB in mmap, returned to the system when freed (RSS 792 -> 624 MB, same notes).
    "MALLOC_MMAP_THRESHOLD_": (str(256 * 1024), -3),
}


def malloc_env() -> dict[str, str]:
    return {name: value for name, (value, _) in MALLOC_ENV.items()}


def prepare_process(settings: Settings) -> list[str]:
    """Set malloc up; keep torch out of a lexicon-only worker. Returns what was done."""
    done = []
    for name, (default, parameter) in MALLOC_ENV.items():
        # Set for workers started later; set here too for a process that started without it.
        value = os.environ.setdefault(name, default)
        if value.isdigit() and _mallopt(parameter, int(value)):
            done.append(f"{name}={value}")
    if not settings.use_model and "torch" not in sys.modules:
        # thinc imports torch when it is installed and works without it (an ImportError means
        # "not installed"); only the context model needs it. About 180 MB RSS per worker.
        sys.modules["torch"] = None  # type: ignore[assignment]
        done.append("torch not loaded (lexicon-only)")
    return done


def _mallopt(parameter: int, value: int) -> bool:
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        return bool(ctypes.CDLL(name).mallopt(parameter, value))
    except (OSError, AttributeError):  # not glibc
        return False


def frozen_after(load: Callable[[Settings], TranslatorLike]
                 ) -> Callable[[Settings], TranslatorLike]:
    """``load``, then the loaded pipeline moved out of the garbage collector's sight.

    The pipeline holds a few hundred thousand long-lived objects (lexicon, lemma table, caches).
    Python's occasional full collection walks them all: ~0.3 s with every request stalled
    behind it. ``gc.freeze`` leaves them to reference counting alone; requests' own garbage is
    still collected as before.
    """
    from klarjournal.pipeline.translator import freeze_loaded_heap

    def load_and_freeze(settings: Settings) -> TranslatorLike:
        translator = load(settings)
        freeze_loaded_heap()
        return translator

    return load_and_freeze
