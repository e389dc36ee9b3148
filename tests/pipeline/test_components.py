"""Each pipeline component on real-style clinical Danish (all examples written for the tests)."""

import pytest

from klarjournal.pipeline.quantities import find_quantities
from klarjournal.pipeline.terms import opposite_prefixes


@pytest.mark.parametrize("text", ["dgl.", "i.v.", "p.o.", "s.c.", "st.p.", "u.a.", "obs.", "tbl.",
                                  "bilat.", "sin.", "dxt.", "Pt.", "Obs.", "P.O."])
def test_tokenizer_keeps_clinical_abbreviation_with_its_period(nlp, text):
    assert [t.text for t in nlp.tokenizer(text)] == [text]


@pytest.mark.parametrize(("text", "word"), [
    ("Trombose i a. mesenterica superior.", "a."), ("Cat. nucl. gr. 2", "nucl."),
    ("Creme ad us. ext. to gange dgl.", "us."),
])
def test_tokenizer_keeps_the_period_of_each_abbreviated_word_of_a_phrase(nlp, text, word):
    assert word in [t.text for t in nlp.tokenizer(text)]


@pytest.mark.parametrize("text", ["Pamol 1 g x 4 dgl.", "Giv 500 mg p.o. nu.", "Sår på crus sin., "
                                  "ikke dxt."])
def test_tokenizer_abbreviation_stays_whole_inside_a_sentence(nlp, text):
    words = [t.text for t in nlp.tokenizer(text)]
    assert any(w in words for w in ("dgl.", "p.o.", "sin.", "dxt."))


@pytest.mark.parametrize(("text", "quantity"), [
    ("BT 145/90 i hvile", "145/90"),
    ("P-glukose 7,2 mmol/l fastende", "7,2 mmol/l"),
    ("SAT 94% på stueluft", "94%"),
    ("får 2 l O2 på næsebrille", "2 l O2"),
    ("Pamol 4 g x 3 dgl.", "4 g x 3"),
    ("indlagt 12.03.2026 om aftenen", "12.03.2026"),
    ("set kl. 14.30 af vagthavende", "kl. 14.30"),
    ("temp 38,5 °C", "38,5 °C"),
    ("Hb 6,1 mmol/l, leuk 12,3 x10^9/l", "12,3 x10^9/l"),
    ("K 3.5 mmol/l", "3.5 mmol/l"),  # a decimal point with a unit is no date (3rd of May)
    ("K 3.5 mmol/L.", "3.5 mmol/L"),  # the litre with a capital L
])
def test_quantities_cover_the_whole_value_with_its_unit(text, quantity):
    start = text.index(quantity)
    assert (start, start + len(quantity)) in find_quantities(text)


@pytest.mark.parametrize(("text", "heading", "plain_heading"), [
    ("Obj.:\nCor: u.a.", "Obj.", "Det fandt lægen ved undersøgelsen"),
    ("Anamnese: 3 dages hoste.", "Anamnese", "Det fortalte du"),
    ("Vurdering: pneumoni.", "Vurdering", "Lægens vurdering"),
    ("Plan:\n- Røntgen af thorax", "Plan", "Det videre forløb"),
])
def test_sections_find_heading_and_patient_heading(translator, text, heading, plain_heading):
    sections = translator.translate(text).sections
    assert (sections[0].heading, sections[0].plain_heading) == (heading, plain_heading)


@pytest.mark.parametrize(("text", "plain"), [
    ("S: Hoste.\nP: Penicillin.", "Det fortalte du: Hoste.\nDet videre forløb: Penicillin."),
    ("A: Hoste.", "Lægens vurdering: Hoste."),
    ("Vurd.: Hoste.", "Lægens vurdering: Hoste."),
    ("Vurdering: Hoste.", "Vurdering: Hoste."),
])
def test_sections_explain_a_heading_written_as_a_letter_or_abbreviation(translator, text, plain):
    # "P:" is not "Puls:" and "A:" is not left for the patient to guess.
    assert translator.translate(text).plain == plain


def test_sections_split_note_at_each_heading(translator):
    text = "Anamnese: hoste.\nObj.: febril.\nPlan: kontrol."
    sections = translator.translate(text).sections
    assert [s.heading for s in sections] == ["Anamnese", "Obj.", "Plan"]
    assert [text[s.start:s.end].split(":")[0] for s in sections] == ["Anamnese", "Obj.", "Plan"]
    assert sections[-1].end == len(text)


@pytest.mark.parametrize("text", ["P: 72 regelmæssig", "Pt. er vågen: klar og orienteret"])
def test_sections_do_not_take_a_value_line_for_a_heading(translator, text):
    assert all(s.heading is None for s in translator.translate(text).sections)


@pytest.mark.parametrize(("text", "expected"), [
    ("Pamol 1 g x 4 dgl. Pt. har det godt.", 2),
    ("Obs. pneumoni. Ingen tegn på DVT.", 2),
    ("BT 145/90\nP 72", 2),
    ("Giv 1 tbl. p.o. i morgen tidlig.", 1),
    ("Ingen smerter i ve. CRP-stigning til 80.", 2),   # the negation must not reach CRP
    ("Kendt m. Alzheimers demens.", 1),                 # "m." (med) never ends a sentence
    ("EKG mhp. Holter-monitorering.", 1),
    ("Indlægges til obs. Pt. har det godt.", 2),
    ("Ingen frakturer på rtg. CK 4500.", 2),           # an acronym with a value is a new finding
    ("Babinski neg. hø. NIHSS 7.", 2),
    ("Ødem på hø. UE og ve. OE.", 1),                   # a side and a limb are one finding
    ("Trombose i a. mesenterica superior.", 1),
    ("Kendt med mb. Crohn siden 2010.", 1),            # a lexicon form writes a name after "mb."
    ("Resektion a.m. Hartmann pga. perforation.", 1),
    ("Ryger, tidl. AMI 2019.", 1),                      # a year is no measured value
    ("Skiftet til tabl. Amoxicillin i dag.", 1),        # a drug's name after its dosage form
    ("Vægt 81 kg. DRE normal.", 2),                     # an acronym after a finished measure
    ("IPSS 19. DRE let forstørret.", 2),
])
def test_sentences_end_at_real_sentence_ends_not_abbreviation_periods(nlp, text, expected):
    assert len(list(nlp(text).sents)) == expected


@pytest.mark.parametrize(("text", "surface", "plain"), [
    ("Pt. har dyspnø.", "dyspnø", "åndenød"),
    ("pt. har DYSPNØ", "DYSPNØ", "åndenød"),
    ("Pt har dyspnøen i hvile", "dyspnøen", "åndenøden"),
    ("Rtg viser pneumonien tydeligt", "pneumonien", "lungebetændelsen"),
    ("ødemerne er aftaget", "ødemerne", "Hævelserne"),
    ("EKG'et viser sinusrytme", "EKG'et", "Hjertediagrammet"),
    ("Pt går i KOL-ambulatoriet", "KOL", "rygerlunger"),
    ("Pamol 1 g x 4 dgl", "dgl", "dagligt"),
])
def test_terms_match_case_period_inflection_and_compound_variants(translator, text, surface, plain):
    spans = {s.surface: s.plain for s in translator.translate(text).spans}
    assert spans.get(surface) == plain


@pytest.mark.parametrize(("text", "not_entry"), [
    ("hs-TnT 412, stigende. Kreatinin 98.", "nef.kreatininstigning"),  # no phrase across "."
    ("Som steroidbesparende beh. gives MTX.", "oenh.som"),  # SOM only in capitals
])
def test_terms_never_join_words_the_note_keeps_apart(translator, text, not_entry):
    assert all(s.entry != not_entry for s in translator.translate(text).spans)


@pytest.mark.parametrize(("text", "surface", "entry"), [
    ("Pt. er ASA 3.", "ASA 3", "anæst.asa-3"),  # the number and the sentence's period
    ("HD-afsnittet ringer.", "HD-afsnittet", "nef.haemodialyseafsnit"),  # not everyday Danish
    ("Trombose i a. mesenterica superior.", "a. mesenterica superior", "anat.a-mesenterica"),
])
def test_terms_match_a_whole_phrase_or_compound_as_listed(translator, text, surface, entry):
    spans = translator.translate(text).spans
    assert any(s.surface == surface and s.entry == entry for s in spans)


@pytest.mark.parametrize("text", ["Han tog sin jakke på", "Det er ca 5 km væk"])
def test_terms_do_not_read_an_ordinary_word_as_a_periodless_abbreviation(translator, text):
    surfaces = {s.surface for s in translator.translate(text).spans}
    assert not surfaces & {"sin", "ca"}


@pytest.mark.parametrize(("word", "term", "opposite"), [
    ("exoftalmus", "enoftalmus", True), ("hypokaliæmi", "hyperkaliæmi", True),
    ("abduktion", "adduktion", True), ("bradykardi", "takykardi", True),
    ("pneumonni", "pneumoni", False), ("hypertensionn", "hypertension", False),
])
def test_a_misspelling_is_never_read_as_the_term_with_the_opposite_prefix(word, term, opposite):
    assert opposite_prefixes(word, term) is opposite


@pytest.mark.parametrize(("text", "surface", "entry"), [
    ("Anfald af SVT. Kendt KOL.", "SVT", "svt"),   # not "svt." (svarende til) in capitals
    ("Henvist fra e.l. i dag.", None, "alm.el"),    # egen læge is not "el." (eller)
    ("Ingen indikation p.t. Pt. er træt.", "p.t.", "pro-tempore"),  # for tiden, not patienten
    ("Ingen indikation p.t. Pt. er træt.", "Pt.", "pt"),
    ("Behandles med 5-FU i 6 mdr.", "5-FU", None),  # a drug name that starts with a digit
    ("T. Panodil 1 g x 4.", None, "vit.t"),          # a tablet, not the temperature T
])
def test_terms_respect_the_shape_of_an_abbreviation(translator, text, surface, entry):
    spans = translator.translate(text).spans
    if surface:
        assert any(s.surface == surface and (entry is None or s.entry == entry) for s in spans)
    else:
        assert all(s.entry != entry for s in spans)


def test_a_protruding_eye_is_not_read_as_a_sunken_one(translator):
    # "exoftalmus" is one letter from "enoftalmus" (sunken eye), a lexicon term.
    plain = translator.translate("Let exoftalmus.").plain
    assert "indsunket" not in plain


@pytest.mark.parametrize(("text", "surface", "source"), [
    ("Pt. har pnevmoni", "pnevmoni", "lexicon"),
    ("Pt. har pneumonni", "pneumonni", "fuzzy"),
])
def test_terms_match_spelling_variants_and_close_misspellings(translator, text, surface, source):
    span = next(s for s in translator.translate(text).spans if s.surface == surface)
    assert (span.source, span.plain) == (source, "lungebetændelse")


def test_terms_never_show_a_fuzzy_match_below_the_threshold(translator):
    translation = translator.translate("Pt. har pnuenomi.")
    assert all(s.surface != "pnuenomi" for s in translation.spans)
    assert "pnuenomi" in translation.plain


@pytest.mark.parametrize(("text", "surface", "flag"), [
    ("Ingen tegn på DVT.", "DVT", "negated"),
    ("Pt. uden dyspnø.", "dyspnø", "negated"),
    ("DVT afkræftet ved UL.", "DVT", "negated"),
    ("Pneumoni kan ikke udelukkes.", "Pneumoni", "uncertain"),
    ("Obs. pneumoni.", "pneumoni", "uncertain"),
    ("Tidl. pneumoni.", "pneumoni", "historical"),
    ("Mor har KOL.", "KOL", "family"),
    ("Ingen dyspnø, takykardi eller hypotension.", "hypotension", "negated"),  # a list
    ("Tiltagende dyspnø, ? LE.", "LE", "uncertain"),  # "?" before a word asks about it
    ("Susp. pneumoni.", "pneumoni", "uncertain"),
    ("Indlagt til obs. for pneumoni.", "pneumoni", "uncertain"),
    ("Ingen tegn på inflammation.", "tegn på inflammation", "negated"),  # span inside the cue
])
def test_context_marks_negation_uncertainty_history_and_family(translator, text, surface, flag):
    span = next(s for s in translator.translate(text).spans if s.surface == surface)
    assert getattr(span, flag) is True


@pytest.mark.parametrize(("text", "surface"), [
    ("Pneumoni kan ikke udelukkes.", "Pneumoni"),
    ("Ingen feber, men dyspnø.", "dyspnø"),
    ("Pt. har dyspnø.", "dyspnø"),
    ("Ingen smerter i ve. CRP-stigning til 80.", "CRP"),   # a new sentence after "ve."
    ("Ingen dyspnø; takykardi og hypotension.", "takykardi"),  # every cue at a semicolon
    ("Negativ for HIV, positiv for HCV.", "HCV"),
    ("Ingen ødemer på ve. ben, ødemer på hø. ben.", "ødemer"),  # the finding again: the 2nd
])
def test_context_does_not_negate_what_the_note_does_not_negate(translator, text, surface):
    last = [s for s in translator.translate(text).spans if s.surface == surface][-1]
    assert last.negated is False


@pytest.mark.parametrize("word", ["xylofomatose", "pneunomi"])
def test_jargon_without_entry_stays_as_written_and_is_listed(translator, word):
    translation = translator.translate(f"Pt. har {word}.")
    assert word in translation.plain
    assert word in [u["surface"] for u in translation.unresolved]


@pytest.mark.parametrize("text", ["Start pivmecillinam 400 mg x 3 og paracetamol.",
                                  "Fortsat Hjertemagnyl og valaciclovir."])
def test_drug_names_stay_as_written_and_are_not_listed_as_unexplained(translator, text):
    translation = translator.translate(text)
    assert translation.plain == text
    assert translation.spans == [] and translation.unresolved == []


@pytest.mark.parametrize("text", ["Pt. mødte Hansen i går.", "Pt. har hovedpine og kvalme."])
def test_jargon_leaves_names_and_everyday_danish_alone(translator, text):
    assert translator.translate(text).unresolved == []


@pytest.mark.parametrize(("text", "plain"), [
    ("Pt. indlagt med dyspnø. BT 145/90. Obs. pneumoni. Ingen tegn på DVT.",
     "Patienten indlagt med åndenød. Blodtryk 145/90. Mistanke om lungebetændelse. "
     "Ingen tegn på blodprop i en dyb blodåre."),
    ("Pamol 1 g x 4 dgl. Pt. har det godt.", "Pamol 1 g x 4 dagligt. Patienten har det godt."),
    ("pneumonien er i bedring", "Lungebetændelsen er i bedring"),
    # A reading that must follow its noun is placed after it: the everyday noun joins the
    # span, or a noun that is a term itself is read first.
    ("Smerter i bilat. hæl.", "Smerter i hæl i begge sider."),
    ("Ingen postoperativ blødning.", "Ingen blødning efter operationen."),
    ("Postoperativ blødning 200 ml.", "Blødning efter operationen 200 ml."),
    ("Intrakutan sutur.", "Sting i huden."),
    # ... but never with the first word of the next sentence.
    ("Anlagt bilat. Adenotomi.", "Anlagt i begge sider. Fjernelse af polypper bag næsen."),
    # A side is never moved away from what it qualifies, nor its period from the sentence end.
    ("Byld paravertebralt hø.", "Byld ved siden af rygsøjlen højre."),
    ("Gives peroralt i 5 dage.", "Gives gennem munden i 5 dage."),
    # An abbreviation in brackets after its own term is not explained twice.
    ("Synkescreening (GUSS) bestået.", "Test af synkefunktionen (GUSS) bestået."),
    # A Roman numeral is a number too: kept beside a reading that does not state it.
    ("Divertikulitis Hinchey Ib.", "Betændelse i udposninger på tyktarmen sværhedsgrad Ib."),
    # A stage is a cancer stage only in a note about cancer.
    ("Tryksår stadie 2 på sacrum.", "Tryksår stadie 2 på korsbenet."),
])
def test_renderer_writes_correct_danish_and_keeps_everything_else(translator, text, plain):
    assert translator.translate(text).plain == plain


@pytest.mark.parametrize("text", ["Non-STEMI.", "non-STEMI i 2019.", "Non STEMI."])
def test_terms_never_read_a_negated_compound_as_its_last_part(translator, text):
    assert all(span.entry != "kar.stemi" for span in translator.translate(text).spans)


def test_terms_leave_a_compound_whose_reading_cannot_be_joined_as_written(translator):
    # "rotatorer" reads "de små muskler, der drejer hoften": "udad-de små muskler" is no Danish.
    assert translator.translate("Svage udadrotatorer.").plain == "Svage udadrotatorer."


@pytest.mark.parametrize(("text", "number"), [
    ("Lymfom stadie IV.", ("IV", "4")),
    ("Clavien-Dindo grad III.", ("III", "3")),
])
def test_renderer_keeps_a_roman_numeral_in_sight(translator, text, number):
    assert any(form in translator.translate(text).plain for form in number)


def test_renderer_reads_a_lone_roman_numeral_by_its_sense(translator):
    # "IV" after a drug is intravenous: no number to keep beside the reading.
    assert "(IV)" not in translator.translate("Antibiotika IV.").plain


@pytest.mark.parametrize(("text", "plain"), [
    ("Vurdering: Akut otitis media hø.\nPlan: Penicillin.",
     "Vurdering: Akut mellemørebetændelse højre.\nPlan: Penicillin."),
    ("Medicin:\n- Pamol 1 g x 4 dgl.\n- Furix 40 mg", "Pamol 1 g x 4 dagligt.\n"),
])
def test_renderer_keeps_the_period_an_abbreviation_shares_with_a_line_end(translator, text, plain):
    assert plain in translator.translate(text).plain


@pytest.mark.parametrize(("text", "surface", "expansion"), [
    ("Behandlet med pleuradræn.", "pleuradræn", "pleuradræn"),   # entry expansion: thoraxdræn
    ("Obs. larynxcancer.", "larynxcancer", "larynxcancer"),     # entry expansion: cancer laryngis
    ("Divertikler i sigmoideum.", "sigmoideum", "colon sigmoideum"),  # written out: kept
    ("Pt. har dyspnø.", "Pt.", "patienten"),                     # abbreviation: its expansion
    ("Lp(a) 120 nmol/l.", "Lp(a)", "lipoprotein(a)"),           # a form that ends on ")"
])
def test_a_terms_expansion_is_its_own_professional_form(translator, text, surface, expansion):
    span = next(s for s in translator.translate(text).spans if s.surface == surface)
    assert span.expansion == expansion


def test_renderer_marks_a_low_confidence_reading_instead_of_stating_it(translator):
    span = next(s for s in translator.translate("MS.").spans if s.surface == "MS")
    assert span.low_confidence and span.plain.startswith("MS (måske:")


def test_renderer_chooses_sense_from_context(translator):
    note = "Kendt med MS. MR af cerebrum viste nye attakker og lammelse i benet."
    span = next(s for s in translator.translate(note).spans if s.surface == "MS")
    assert span.sense == "ms.multipel-sklerose"


def test_sense_cues_come_from_the_spans_own_section(translator):
    # The heart words of the history do not make the plan's MR a leaking heart valve.
    note = ("Anamnese: Hjertesvigt, mitralinsufficiens og atrieflimren, set ved ekko.\n"
            "Plan: MR i morgen.")
    span = next(s for s in translator.translate(note).spans if s.surface == "MR")
    assert span.sense == "mr.mr-scanning"
