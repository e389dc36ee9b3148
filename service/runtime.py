"""Process set-up for `klarjournal serve`, applied before the pipeline is imported.

Not applied by ``create_app`` itself: tests build apps in a process that also loads torch.
"""

import ctypes
import ctypes.util
import gc
import os
import sys
from collections.abc import Callable

from klarjournal.service.deps import TranslatorLike
from klarjournal.service.settings import Settings

# glibc gives every thread that allocates its own malloc arena (up to 8 per core), and freed
# memory in one arena is not reused by another: RSS creeps up under threaded load. Two arenas
# are enough for the event loop and the pipeline lane.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def prepare_process(settings: Settings) -> list[str]:
    """Limit malloc arenas; keep torch out of a lexicon-only worker. Returns what was done."""
    done = []
    # Inherited by uvicorn's worker processes (spawned, so glibc reads it at their start);
    # set here too for a process that started without it.
    os.environ.setdefault("MALLOC_ARENA_MAX", str(MALLOC_ARENAS))
    arenas = os.environ["MALLOC_ARENA_MAX"]
    if arenas.isdigit() and _set_arena_max(int(arenas)):
        done.append(f"malloc arenas {arenas}")
    if not settings.use_model and "torch" not in sys.modules:
        # thinc imports torch when it is installed and works without it (an ImportError means
        # "not installed"); only the context model needs it. About 180 MB RSS per worker.
        sys.modules["torch"] = None  # type: ignore[assignment]
        done.append("torch not loaded (lexicon-only)")
    return done


def _set_arena_max(arenas: int) -> bool:
    """For this process, which started before the variable was set."""
    name = ctypes.util.find_library("c")
    if not name or arenas < 1:
        return False
    try:
        return bool(ctypes.CDLL(name).mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc
        return False


def frozen_after(load: Callable[[Settings], TranslatorLike]) -> Callable[[Settings], TranslatorLike]:
    """``load``, then the loaded pipeline moved out of the garbage collector's sight.

    The pipeline holds a few hundred thousand long-lived objects (lexicon, lemma table, caches).
    Python's occasional full collection walks them all: ~0.3 s with every request stalled
    behind it. ``gc.freeze`` leaves them to reference counting alone; requests' own garbage is
    still collected as before.
    """
    def load_and_freeze(settings: Settings) -> TranslatorLike:
        translator = load(settings)
        gc.collect()
        gc.freeze()
        return translator

    return load_and_freeze
