// klarjournal preview: original and patient text side by side, every rendered term traced back.
// Note text is only ever inserted with textContent / text nodes, never parsed as HTML.
"use strict";

(function () {
  const LOW_CONFIDENCE = 0.8;
  const SOURCES = {
    lexicon: "leksikon",
    model: "kontekstmodel (valgt blandt flere betydninger)",
    morphology: "orddele (latin/græsk)",
    fuzzy: "stavevariant eller bøjning",
  };
  const KINDS = { abbreviation: "forkortelse", term: "fagord", phrase: "fagligt udtryk" };

  const $ = (id) => document.getElementById(id);
  let current = null; // the last translation shown
  let samples = [];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setStatus(message, isError) {
    const status = $("status");
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  function authHeaders() {
    const key = $("apikey").value.trim();
    sessionStorage.setItem("klarjournal-key", key);
    return key ? { Authorization: "Bearer " + key } : {};
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      return response.status + ": " + (body.detail || response.statusText);
    } catch (_) {
      return response.status + ": " + response.statusText;
    }
  }

  // Unresolved surfaces, as {start, end, surface}, found in the original outside any span.
  function unresolvedRanges(translation) {
    const taken = translation.spans.map((s) => [s.start, s.end]);
    const free = (a, b) => taken.every(([s, e]) => b <= s || a >= e);
    const ranges = [];
    for (const item of translation.unresolved) {
      if (item && typeof item === "object" && Number.isInteger(item.start)) {
        ranges.push({ start: item.start, end: item.end, surface: item.surface,
          reason: item.reason });
        continue;
      }
      const surface = typeof item === "string" ? item : item && item.surface;
      if (!surface) continue;
      let from = 0;
      for (;;) {
        const at = translation.original.indexOf(surface, from);
        if (at < 0) break;
        if (free(at, at + surface.length)) {
          ranges.push({ start: at, end: at + surface.length, surface: surface });
          taken.push([at, at + surface.length]);
        }
        from = at + surface.length;
      }
    }
    return ranges.sort((a, b) => a.start - b.start);
  }

  // Appends text[from:to] to parent, marking the given ranges (sorted, non-overlapping).
  function appendMarked(parent, text, from, to, ranges, makeMark) {
    let cursor = from;
    for (const range of ranges) {
      if (range.end <= from || range.start >= to) continue;
      const start = Math.max(range.start, from);
      const end = Math.min(range.end, to);
      if (start > cursor) parent.appendChild(document.createTextNode(text.slice(cursor, start)));
      parent.appendChild(makeMark(range, text.slice(start, end)));
      cursor = end;
    }
    if (to > cursor) parent.appendChild(document.createTextNode(text.slice(cursor, to)));
  }

  function isLow(span) {
    return Boolean(span.low_confidence) || span.confidence < LOW_CONFIDENCE;
  }

  function termMark(tag, span, index, text) {
    const mark = el(tag, isLow(span) ? "term low" : "term", text);
    mark.dataset.span = String(index);
    mark.tabIndex = 0;
    mark.setAttribute("aria-describedby", "details");
    if (isLow(span)) mark.title = "Usikker forklaring";
    return mark;
  }

  function renderOriginal(translation) {
    const target = $("original");
    target.replaceChildren();
    const ranges = translation.spans.map((span, i) => ({ ...span, index: i, isSpan: true }))
      .concat(unresolvedRanges(translation).map((r) => ({ ...r, isSpan: false })))
      .sort((a, b) => a.start - b.start);
    appendMarked(target, translation.original, 0, translation.original.length, ranges,
      (range, text) => {
        if (range.isSpan) return termMark("mark", range, range.index, text);
        const mark = el("mark", "unresolved", text);
        mark.tabIndex = 0;
        mark.title = "Uforklaret: står uændret i patientteksten" +
          (range.reason ? " (" + range.reason + ")" : "");
        return mark;
      });
  }

  // Where an offset in the original lands in the patient text, when the text between spans is
  // carried over unchanged (checked by plainOffsetsConsistent).
  // Two neighbouring terms whose readings were swapped ("Intrakutan sutur" reads "Sting i
  // huden") map as one stretch of the original to one stretch of the patient text.
  function stretches(spans) {
    const out = [];
    for (let i = 0; i < spans.length; i++) {
      const next = spans[i + 1];
      if (next && next.plain_start < spans[i].plain_start) {
        out.push({start: spans[i].start, end: next.end,
                  plain_start: next.plain_start, plain_end: spans[i].plain_end});
        i++;
      } else {
        out.push(spans[i]);
      }
    }
    return out;
  }

  function toPlain(spans, offset) {
    let delta = 0;
    for (const span of stretches(spans)) {
      if (span.end <= offset) delta = span.plain_end - span.end;
      else if (span.start < offset) return span.plain_end;
      else break;
    }
    return offset + delta;
  }

  function plainOffsetsConsistent(translation) {
    let delta = 0;
    for (const span of stretches(translation.spans)) {
      if (span.plain_start - span.start !== delta) return false;
      delta = span.plain_end - span.end;
    }
    return translation.plain.length - translation.original.length === delta;
  }

  function renderPlain(translation) {
    const target = $("plain");
    target.replaceChildren();
    const ranges = translation.spans.map((span, i) => ({
      start: span.plain_start, end: span.plain_end, span: span, index: i,
    })).sort((a, b) => a.start - b.start);
    const mark = (range, text) => termMark("span", range.span, range.index, text);
    const sections = translation.sections || [];
    const headed = sections.some((s) => s.plain_heading || s.heading);
    if (!headed || !plainOffsetsConsistent(translation)) {
      appendMarked(target, translation.plain, 0, translation.plain.length, ranges, mark);
      return;
    }
    sections.forEach((section, i) => {
      const block = el("section", "note-section");
      const heading = section.plain_heading || section.heading;
      const from = i === 0 ? 0 : toPlain(translation.spans, section.start);
      const to = i === sections.length - 1 ? translation.plain.length
        : toPlain(translation.spans, sections[i + 1].start);
      if (heading) {
        block.setAttribute("aria-label", heading);
        // The patient text usually already opens the section with its heading; say it once.
        if (!translation.plain.slice(from, to).trimStart().startsWith(heading)) {
          block.appendChild(el("h3", null, heading));
        }
      }
      const body = el("div", "section-text");
      appendMarked(body, translation.plain, from, to, ranges, mark);
      block.appendChild(body);
      target.appendChild(block);
    });
  }

  function showDetails(span) {
    const list = $("details-list");
    list.replaceChildren();
    const rows = [
      ["I originalen", span.surface],
      ["Type", KINDS[span.kind] || span.kind],
      ["Fuld form", span.expansion || "–"],
      ["Patienten læser", span.plain],
      ["Kilde", SOURCES[span.source] || span.source],
      ["Sikkerhed", Math.round(span.confidence * 100) + " %" +
        (isLow(span) ? " – usikker, kontrollér" : "")],
      ["Benægtet", span.negated ? "ja (notatet udelukker fundet)" : "nej"],
      ["Sammenhæng", [span.uncertain && "usikkert fund/mistanke",
        span.historical && "tidligere", span.family && "hos familien"]
        .filter(Boolean).join(", ") || "–"],
      ["Leksikonopslag", span.entry || "–"],
    ];
    for (const [name, value] of rows) {
      list.appendChild(el("dt", null, name));
      list.appendChild(el("dd", null, value));
    }
    list.hidden = false;
    $("details-empty").hidden = true;
  }

  function highlight(index, on) {
    document.querySelectorAll('[data-span="' + index + '"]').forEach((node) => {
      node.classList.toggle("active", on);
    });
    if (on) {
      const source = $("original").querySelector('[data-span="' + index + '"]');
      if (source && source.scrollIntoView) source.scrollIntoView({ block: "nearest" });
      showDetails(current.spans[index]);
    }
  }

  function onEnter(event) {
    const target = event.target.closest && event.target.closest("[data-span]");
    if (target && current) highlight(Number(target.dataset.span), true);
  }

  function onLeave(event) {
    const target = event.target.closest && event.target.closest("[data-span]");
    if (target && current) highlight(Number(target.dataset.span), false);
  }

  function renderUnresolved(translation) {
    const list = $("unresolved");
    list.replaceChildren();
    if (!translation.unresolved.length) list.appendChild(el("li", "none", "Ingen."));
    for (const item of translation.unresolved) {
      list.appendChild(el("li", null, typeof item === "string" ? item : item.surface));
    }
  }

  function renderGlossary(translation) {
    const list = $("glossary");
    list.replaceChildren();
    for (const item of translation.glossary || []) {
      list.appendChild(el("dt", null, item.term));
      list.appendChild(el("dd", null, item.explanation));
    }
  }

  function render(translation) {
    current = translation;
    renderOriginal(translation);
    renderPlain(translation);
    renderUnresolved(translation);
    renderGlossary(translation);
    $("details-list").hidden = true;
    $("details-empty").hidden = false;
    $("resultat").hidden = false;
  }

  function requestBody() {
    const options = { detail: "uddybet" };
    const specialty = $("specialty").value.trim();
    if (specialty) options.specialty = specialty;
    return JSON.stringify({ text: $("note").value, options: options });
  }

  async function translate(event) {
    if (event) event.preventDefault();
    if (!$("note").value.trim()) {
      setStatus("Skriv eller indsæt et notat først.", true);
      $("note").focus();
      return;
    }
    setStatus("Oversætter …");
    try {
      const response = await postNote("/v1/translate");
      if (!response) return;
      const translation = await response.json();
      render(translation);
      const unresolved = translation.unresolved.length;
      setStatus("Færdig: " + translation.spans.length + " ord forklaret, " + unresolved +
        " uforklarede.");
    } catch (error) {
      setStatus("Kunne ikke nå serveren.", true);
    }
  }

  // POST the note to `path`; on an error status, show the server's message and return null.
  async function postNote(path) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: requestBody(),
    });
    if (!response.ok) {
      setStatus("Fejl " + (await errorMessage(response)), true);
      return null;
    }
    return response;
  }

  async function speak() {
    setStatus("Laver lyd …");
    try {
      const response = await postNote("/v1/audio");
      if (!response) return;
      const player = $("player");
      if (player.src) URL.revokeObjectURL(player.src);
      player.src = URL.createObjectURL(await response.blob());
      player.hidden = false;
      $("resultat").hidden = false;
      setStatus("Lyden er klar.");
      player.play().catch(() => {});
    } catch (error) {
      setStatus("Kunne ikke nå serveren.", true);
    }
  }

  async function loadSamples() {
    try {
      const response = await fetch("/static/samples.json");
      samples = await response.json();
    } catch (_) {
      samples = [];
    }
    const select = $("sample");
    samples.forEach((sample, i) => {
      const option = el("option", null, sample.title);
      option.value = String(i);
      select.appendChild(option);
    });
  }

  async function loadStatus() {
    try {
      const response = await fetch("/readyz");
      const ready = await response.json();
      if (!response.ok) return;
      const v = ready.versions || {};
      let text = "klarjournal " + (v.klarjournal || "?") + " · leksikon " + (v.lexicon || "?") +
        " · model " + (v.model || "?");
      if (ready.status === "degraded") {
        text += " · Kontekstmodellen kunne ikke indlæses: kun leksikonet bruges.";
      }
      $("versions").textContent = text;
      $("speak").hidden = !ready.audio;
    } catch (_) {
      $("versions").textContent = "Serverstatus ukendt.";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("apikey").value = sessionStorage.getItem("klarjournal-key") || "";
    $("form").addEventListener("submit", translate);
    $("speak").addEventListener("click", speak);
    $("note").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) translate(event);
    });
    $("sample").addEventListener("change", () => {
      const sample = samples[Number($("sample").value)];
      if (!sample || $("sample").value === "") return;
      $("note").value = sample.text;
      $("specialty").value = sample.specialty || "";
    });
    for (const id of ["original", "plain"]) {
      $(id).addEventListener("mouseover", onEnter);
      $(id).addEventListener("mouseout", onLeave);
      $(id).addEventListener("focusin", onEnter);
      $(id).addEventListener("focusout", onLeave);
    }
    loadSamples();
    loadStatus();
  });
})();
