"""`POST /v1/audio`: WAV of the patient text via espeak-ng, or a clear 503 without it."""

import shutil
import struct

import pytest

from klarjournal.service import audio
from tests.service.support import make_client


def test_audio_is_503_with_a_clear_message_without_espeak(monkeypatch):
    monkeypatch.setattr(audio, "espeak_path", lambda: None)
    monkeypatch.setattr("klarjournal.service.routes.api.espeak_path", lambda: None)
    response = make_client().post("/v1/audio", json={"text": "Pt. har dyspnø."})
    assert response.status_code == 503
    assert "espeak-ng is not installed" in response.json()["detail"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="Debian espeak-ng not installed")
def test_audio_returns_a_wav_of_the_patient_text():
    response = make_client().post("/v1/audio", json={"text": "Pt. har dyspnø."})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    wav = response.content
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert struct.unpack("<I", wav[4:8])[0] == len(wav) - 8
    assert len(wav) > 10_000  # a second of speech or so, not an empty file


def test_wav_sizes_are_filled_in():
    streamed = b"RIFF" + b"\xff" * 4 + b"WAVEfmt " + b"\0" * 20 + b"data" + b"\xff" * 4 + b"ab"
    fixed = audio._fix_wav_sizes(streamed)
    assert struct.unpack("<I", fixed[4:8])[0] == len(fixed) - 8
    assert struct.unpack("<I", fixed[40:44])[0] == 2
