"""Speaking the patient text with Debian's espeak-ng (voice "da"), for readers who listen."""

import shutil
import struct
import subprocess

ESPEAK = "espeak-ng"


class AudioUnavailable(RuntimeError):
    pass


def espeak_path() -> str | None:
    return shutil.which(ESPEAK)


def speak(text: str, timeout: float) -> bytes:
    """WAV bytes of ``text`` read aloud in Danish."""
    binary = espeak_path()
    if binary is None:
        raise AudioUnavailable("espeak-ng is not installed on the server")
    # Text goes through stdin, never argv: a command line is visible to every local user.
    try:
        completed = subprocess.run(
            [binary, "-v", "da", "-b", "1", "--stdout", "--stdin"],
            input=text.encode("utf-8"), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AudioUnavailable(f"espeak-ng took longer than {timeout:g} s") from None
    if completed.returncode != 0 or len(completed.stdout) < 44:
        raise AudioUnavailable(f"espeak-ng failed with exit code {completed.returncode}")
    return _fix_wav_sizes(completed.stdout)


def _fix_wav_sizes(wav: bytes) -> bytes:
    # Writing to a pipe, espeak-ng cannot seek back to fill in the RIFF and data sizes; some
    # players refuse such files, so set them from the real length.
    if wav[:4] != b"RIFF" or wav[36:40] != b"data":
        return wav
    return (wav[:4] + struct.pack("<I", len(wav) - 8) + wav[8:40]
            + struct.pack("<I", len(wav) - 44) + wav[44:])
