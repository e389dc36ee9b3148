"""Gather Danish text for pretraining the sense ranker's encoder, reproducibly, offline-capable.

Sources (each one a Debian package fetched with ``apt-get download`` and unpacked with
``dpkg-deb -x``; nothing is installed):

* ``manpages-da`` – Danish man pages (groff, stripped to text).
* ``debian-edu-doc-da`` – the Debian Edu manual in Danish (HTML).
* ``libreoffice-help-da`` – LibreOffice help in Danish (HTML/XHP).
* ``libreoffice-l10n-da``, ``firefox-esr-l10n-da``, ``thunderbird-l10n-da`` – Danish UI
  translations (gettext ``.mo`` catalogues and Fluent ``.ftl`` files).
* ``wdanish``, ``mythes-da``, ``dict-freedict-dan-eng`` – word lists, thesaurus and dictionary;
  used for tokenizer vocabulary only, not as running text.

Each package's licence is read from its ``usr/share/doc/<pkg>/copyright`` and written to the
manifest. Project sources added on top: the development notes ``evaluation/corpus/dev.jsonl``
(never test files), the lexicon's expansions and lay readings, and the plan texts in a seeds
folder when one is given at build time. Output goes to ``models/work/text/``:
``pretrain.txt`` (package text, one paragraph a line), ``domain.txt`` (project text),
``vocab_extra.txt`` (words) and ``manifest.json``.
"""

import gettext
import gzip
import hashlib
import html
import json
import re
import subprocess
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from klarjournal.lexicon import load_lexicon

TEXT_PACKAGES = (
    "manpages-da", "debian-edu-doc-da", "libreoffice-help-da",
    "libreoffice-l10n-da", "firefox-esr-l10n-da", "thunderbird-l10n-da",
)
VOCAB_PACKAGES = ("wdanish", "mythes-da", "dict-freedict-dan-eng")
DANISH_LETTERS = re.compile(r"[æøåÆØÅ]")
# Common Danish function words; a paragraph must contain some to count as Danish.
DANISH_WORDS = frozenset(
    "og i at det en er til på som med af for ikke der den de har kan du vil eller fra så skal "
    "om ved eller også når hvis man efter denne dette disse blive bliver være".split()
)
CPR_LIKE = re.compile(r"\b\d{6}-?\d{4}\b")


@dataclass
class GatherResult:
    paragraphs: int
    characters: int
    vocab_words: int
    sources: list[dict[str, object]] = field(default_factory=list)


class _HtmlText(HTMLParser):
    """Collects text of block elements as paragraphs, skipping script/style/code."""

    BLOCKS = frozenset("p li td th h1 h2 h3 h4 h5 h6 div dd dt title caption pre".split())
    SKIP = frozenset(("script", "style", "code", "tt", "kbd"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buffer: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCKS or tag == "br":
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buffer.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        if text:
            self.paragraphs.append(text)
        self._buffer = []

    def close(self) -> None:
        super().close()
        self._flush()


def html_paragraphs(markup: str) -> list[str]:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return parser.paragraphs


_GROFF_ESCAPES = re.compile(r"\\f[BIRP]|\\f\(..|\\f\[[^\]]*\]|\\\(..|\\[&|^%e]|\\s[-+]?\d")


def man_paragraphs(source: str) -> list[str]:
    """Plain paragraphs from a groff man page: macros dropped, font escapes removed."""
    paragraphs: list[str] = []
    buffer: list[str] = []
    for line in source.splitlines():
        if line.startswith((".", "'")):
            macro = line.split()[0] if line.split() else "."
            if macro in (".PP", ".P", ".LP", ".SH", ".SS", ".TP", ".IP", ".br", ".sp", "."):
                if buffer:
                    paragraphs.append(" ".join(buffer))
                    buffer = []
            if macro in (".B", ".I", ".BR", ".IR", ".RB", ".RI", ".BI", ".IB", ".SH", ".SS"):
                rest = line[len(macro):].strip().replace('"', "")
                if rest:
                    buffer.append(rest)
            continue
        buffer.append(line)
    if buffer:
        paragraphs.append(" ".join(buffer))
    cleaned = (" ".join(_GROFF_ESCAPES.sub("", p).replace("\\-", "-").split()) for p in paragraphs)
    return [p for p in cleaned if p]


def mo_messages(path: Path) -> list[str]:
    with path.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    return [str(v) for k, v in catalog.items() if k and isinstance(v, str)]


def ftl_messages(text: str) -> list[str]:
    messages = []
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            value = line.split("=", 1)[1].strip()
            value = re.sub(r"\{[^}]*\}", "", value)
            if value:
                messages.append(value)
    return messages


def is_danish(paragraph: str) -> bool:
    words = re.findall(r"[a-zæøå]+", paragraph.lower())
    if len(words) < 4:
        return False
    hits = sum(word in DANISH_WORDS for word in words)
    return hits / len(words) >= 0.12 or (hits >= 2 and bool(DANISH_LETTERS.search(paragraph)))


def fetch_package(name: str, work: Path) -> Path:
    """Download and unpack one package under ``work``; returns the unpacked root (cached)."""
    root = work / "unpacked" / name
    if root.exists():
        return root
    debs = work / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", name], cwd=debs, check=True,
                   stdout=subprocess.DEVNULL)
    deb = sorted(debs.glob(f"{name}_*.deb"))[-1]
    root.mkdir(parents=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def package_licence(root: Path, name: str) -> str:
    copyright_file = root / "usr" / "share" / "doc" / name / "copyright"
    if not copyright_file.exists():
        return "see package copyright"
    # The first License: line belongs to the "Files: *" stanza, i.e. the package's main licence.
    found = re.search(r"^License:\s*([\w.+-]+(?: (?:or|and) [\w.+-]+)*)\s*$",
                      copyright_file.read_text(errors="replace"), re.M)
    return found.group(1).strip() if found else "see package copyright"


def package_version(name: str, work: Path) -> str:
    debs = sorted((work / "debs").glob(f"{name}_*.deb"))
    return unquote(debs[-1].name.split("_")[1]) if debs else "unknown"


def text_from_package(root: Path) -> Iterator[str]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if path.name.endswith(".gz") and "/man" in str(path):
            yield from man_paragraphs(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        elif suffix in (".html", ".htm", ".xhtml", ".xhp"):
            yield from html_paragraphs(path.read_text(encoding="utf-8", errors="replace"))
        elif suffix == ".mo":
            yield from mo_messages(path)
        elif suffix == ".ftl":
            yield from ftl_messages(path.read_text(encoding="utf-8", errors="replace"))
        elif suffix in (".xpi", ".jar", ".zip", ".epub"):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.endswith(".ftl"):
                        yield from ftl_messages(archive.read(member).decode("utf-8", "replace"))
                    elif member.endswith((".html", ".xhtml", ".xhp")):
                        yield from html_paragraphs(archive.read(member).decode("utf-8", "replace"))


def words_from_package(root: Path) -> Iterator[str]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if "/doc/" in str(path) or path.suffix in (".gz", ".idx", ".aff"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            text = path.read_text(encoding="latin-1")
        for token in re.findall(r"[A-Za-zÆØÅæøåéü-]{3,}", text):
            yield token


def project_paragraphs(dev: Path, seeds: Path | None) -> dict[str, list[str]]:
    """Danish text from the project itself: dev notes, lexicon readings, plan texts."""
    out: dict[str, list[str]] = {"corpus-dev": [], "lexicon": [], "seeds": []}
    if dev.exists():
        for line in dev.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                text = record.get("text") or record.get("note") or ""
                out["corpus-dev"].extend(p.strip() for p in text.split("\n") if p.strip())
    lexicon = load_lexicon()
    for entry in lexicon.entries:
        for sense in entry.all_senses():
            lays = "; ".join(reading.text for reading in sense.lay)
            out["lexicon"].append(f"{sense.expansion}: {lays}.")
    if seeds and seeds.exists():
        for path in sorted(seeds.glob("*.txt")):
            out["seeds"].extend(
                " ".join(p.split()) for p in path.read_text(encoding="utf-8").split("\n\n")
                if p.strip())
    return out


def _dedupe(paragraphs: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for paragraph in paragraphs:
        paragraph = html.unescape(" ".join(paragraph.split()))
        key = hashlib.sha1(paragraph.lower().encode()).hexdigest()
        if key in seen or CPR_LIKE.search(paragraph):
            continue
        seen.add(key)
        yield paragraph


def gather(dev_notes: Path, work: Path, seeds: Path | None = None,
           packages: tuple[str, ...] = TEXT_PACKAGES,
           vocab_packages: tuple[str, ...] = VOCAB_PACKAGES) -> GatherResult:
    """Fetch every source and write the text files and ``manifest.json`` to ``work/text``."""
    out_dir = work / "text"
    out_dir.mkdir(parents=True, exist_ok=True)
    result = GatherResult(0, 0, 0)
    with (out_dir / "pretrain.txt").open("w", encoding="utf-8") as handle:
        for name in packages:
            root = fetch_package(name, work)
            kept = [p for p in _dedupe(text_from_package(root)) if is_danish(p)]
            for paragraph in kept:
                handle.write(paragraph + "\n")
            chars = sum(len(p) for p in kept)
            result.paragraphs += len(kept)
            result.characters += chars
            result.sources.append({
                "source": name, "kind": "debian-package",
                "version": package_version(name, work),
                "licence": package_licence(root, name), "paragraphs": len(kept),
                "characters": chars})
    with (out_dir / "domain.txt").open("w", encoding="utf-8") as handle:
        for name, paragraphs in project_paragraphs(dev_notes, seeds).items():
            kept = list(_dedupe(paragraphs))
            for paragraph in kept:
                handle.write(paragraph + "\n")
            chars = sum(len(p) for p in kept)
            result.paragraphs += len(kept)
            result.characters += chars
            result.sources.append({"source": name, "kind": "project",
                                   "licence": "project (MIT)", "paragraphs": len(kept),
                                   "characters": chars})
    words: set[str] = set()
    for name in vocab_packages:
        root = fetch_package(name, work)
        before = len(words)
        words.update(words_from_package(root))
        result.sources.append({
            "source": name, "kind": "debian-package (vocabulary only)",
            "version": package_version(name, work),
            "licence": package_licence(root, name), "words": len(words) - before})
    (out_dir / "vocab_extra.txt").write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    result.vocab_words = len(words)
    manifest = {"paragraphs": result.paragraphs, "characters": result.characters,
                "vocab_words": result.vocab_words, "sources": result.sources}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                           encoding="utf-8")
    return result
