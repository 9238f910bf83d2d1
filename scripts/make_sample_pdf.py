#!/usr/bin/env python3
"""Generate the generated parts of the bundled sample corpus in sample_docs/.

Writes, deterministically (re-running gives byte-identical files):

* sample_docs/manuals/water_quality_manual.pdf  - a multi-page text PDF (fpdf2)
* sample_docs/handbook/glossary.md              - a markdown file with CRLF line endings
* sample_docs/handbook/archive/welcome.md       - exact duplicate of handbook/welcome.md
* sample_docs/quarantine/empty.md               - 0 bytes
* sample_docs/quarantine/binary_blob.md         - binary bytes (PNG signature + NULs)
* sample_docs/quarantine/corrupt_manual.pdf     - the real PDF truncated to 300 bytes
* sample_docs/quarantine/spreadsheet.xlsx       - junk bytes with an unsupported extension

Usage:  .venv/bin/python scripts/make_sample_pdf.py
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_docs"

FIXED_DATE = datetime(2024, 1, 15, 9, 0, 0, tzinfo=UTC)

# ---------------------------------------------------------------------------
# Water Quality Manual content. Core font Helvetica: keep text ASCII only.
# Each entry is one page: (heading, [paragraphs]).
# ---------------------------------------------------------------------------
MANUAL_TITLE = "Brightwater Aquaponics Cooperative - Water Quality Manual"

MANUAL_PAGES: list[tuple[str, list[str]]] = [
    (
        "1. Purpose and Scope",
        [
            "This manual explains how water quality is measured, recorded and "
            "corrected on all three Brightwater farms: Millbrook, Heron Point and "
            "Copperfield. It is issued by the Water Quality Lead, Dr Priyanka "
            "Venkatesan, and is the reference for every technician who takes a "
            "reading, calibrates an instrument or adds a buffer to a system.",
            "The manual describes methods, not targets. The operating bands for "
            "pH, nitrate and temperature differ from farm to farm because the "
            "three sites keep different fish and grow different crops. Those "
            "bands are set each January and printed in the Farm Operations "
            "Handbook. Where this manual says 'the target band', it means the "
            "band given for your farm in that handbook.",
            "Five parameters are checked by hand at every morning and evening "
            "round: temperature, pH, total ammonia nitrogen, nitrite and "
            "dissolved oxygen. Nitrate, conductivity, alkalinity, iron, "
            "potassium and calcium are measured weekly by the external "
            "laboratory. The controllers on each farm also log temperature, pH, "
            "dissolved oxygen and conductivity automatically, but the hand "
            "readings remain the official record because they catch probe "
            "faults that a controller cannot detect in itself.",
        ],
    ),
    (
        "2. Taking Samples",
        [
            "Round samples are drawn from the sump return, just before the "
            "water reaches the pump intake. This is the most mixed point in the "
            "loop and the best single indication of what the fish are "
            "breathing. Rinse the sample cup three times in system water before "
            "filling it, and test within ten minutes, because ammonia and "
            "dissolved oxygen readings change as the sample warms or cools.",
            "If a single tank looks unwell, take a second sample from that tank "
            "as well as the sump, and record both. A tank that reads worse than "
            "the sump usually has a local problem such as a blocked air line, "
            "overfeeding or a dead fish hidden under the outlet screen.",
            "The weekly laboratory panel is collected on Tuesday mornings. Fill "
            "one 500 ml bottle from the sump of each farm before 09:00, label it "
            "with the farm code, date and your initials, and place it in the "
            "cool box with two frozen ice packs. The courier collects the cool "
            "box from the Tannery Lane depot at 10:00 and delivers it to "
            "Ashgrove Analytical, whose results normally arrive by email on "
            "Thursday. A sample that misses the courier is discarded, not held "
            "over, because a day-old sample gives misleading nitrite and iron "
            "results.",
        ],
    ),
    (
        "3. Calibrating the Instruments",
        [
            "An uncalibrated meter is worse than no meter at all, because it "
            "gives false confidence. Every farm has one handheld pH meter, one "
            "dissolved oxygen meter and one conductivity meter, and each has a "
            "calibration card hanging with it.",
            "The pH meter is calibrated every Monday morning, before the "
            "morning round, using a two-point calibration with fresh pH 7.00 and "
            "pH 4.01 buffer solutions, in that order. Pour a little of each "
            "buffer into a clean beaker rather than dipping the probe into the "
            "stock bottle, and throw the used buffer away afterwards. Opened "
            "buffer bottles are replaced after one month. If the meter reports "
            "a slope below 95 percent, clean the probe with the cleaning "
            "solution in the kit and try again; if it still fails, use the "
            "spare probe and tell the Water Quality Lead.",
            "Between uses the pH probe is kept moist in its cap filled with "
            "potassium chloride storage solution. Never store it in distilled "
            "or deionised water, which draws the electrolyte out of the glass "
            "bulb and shortens the life of the probe.",
            "The dissolved oxygen meter is air-calibrated weekly, also on "
            "Monday, by holding the probe in its moist calibration sleeve until "
            "the reading settles. The conductivity meter is checked on the "
            "first Monday of each month against a 1413 microsiemens per "
            "centimetre standard. Write every calibration, with the result, on "
            "the card.",
        ],
    ),
    (
        "4. The Nitrogen Cycle",
        [
            "Fish excrete ammonia through their gills and in their waste. In "
            "water, ammonia exists in two forms: un-ionised ammonia, which is "
            "highly toxic to fish, and the ammonium ion, which is far less "
            "harmful. The balance between them shifts towards the toxic form as "
            "pH and temperature rise. This is why the test kits report total "
            "ammonia nitrogen, and why the same reading is more worrying in a "
            "warm, alkaline system than in a cool, slightly acidic one.",
            "In the biofilter, two groups of bacteria do the essential work. "
            "The first oxidises ammonia to nitrite, which is also toxic because "
            "it interferes with the ability of fish blood to carry oxygen. The "
            "second oxidises nitrite to nitrate, which fish tolerate at much "
            "higher concentrations and which plants take up as their main "
            "source of nitrogen.",
            "These bacteria grow slowly and are easily harmed. Chlorinated "
            "water, sudden changes of pH, and drying out will all kill part of "
            "the colony, and recovery can take weeks. Biofilter media is only "
            "ever rinsed in system water. When a system is restarted from "
            "empty, it must be cycled for at least four weeks, with ammonia "
            "added in small amounts and no fish present, until both ammonia and "
            "nitrite read close to zero within a day of dosing.",
            "A rise in ammonia or nitrite in an established system is nearly "
            "always a sign of either overfeeding or damage to the biofilter. "
            "The first response in both cases is to reduce feeding, because "
            "less feed means less ammonia while the bacteria catch up.",
        ],
    ),
    (
        "5. Managing pH",
        [
            "Nitrification releases acid, so the pH of an aquaponic system "
            "falls steadily unless something is added to hold it up. At "
            "Brightwater we correct falling pH by adding a base, and we choose "
            "bases that also supply nutrients the plants need. Potassium "
            "bicarbonate adds potassium; calcium hydroxide, also called "
            "hydrated lime, adds calcium. The two are used alternately, so that "
            "neither nutrient builds up while the other runs short.",
            "Buffering procedure: weigh the dose on the chemical store scales, "
            "never by eye. Dissolve it fully in a bucket of system water, not "
            "tap water, stirring until no powder remains. Pour the solution "
            "slowly into the sump at the return inlet, where it mixes quickly, "
            "and never directly into a fish tank. Re-test two hours later.",
            "Do not try to move the pH by more than 0.2 units in a day. A rapid "
            "shift stresses fish and can push ammonia into its toxic form. If "
            "the pH is far below the target band, correct it over several days "
            "and tell the Water Quality Lead, because a large fall usually "
            "means that the alkalinity of the water has been exhausted.",
            "Acid is never added to lower pH at Brightwater. If the pH is above "
            "the target band, record it and wait: nitrification will bring it "
            "down. The only exception is when new system water is made up from "
            "hard mains water, which is pre-treated in the make-up tank under "
            "the direct supervision of the Water Quality Lead.",
        ],
    ),
    (
        "6. Dissolved Oxygen and Temperature",
        [
            "Oxygen is the parameter that kills fish fastest. A fully stocked "
            "tank can exhaust its oxygen in well under an hour if aeration "
            "stops, and warm water holds less oxygen than cold water at the "
            "very time fish need more of it.",
            "The minimum acceptable dissolved oxygen is 5 mg/L for tilapia and "
            "yellow perch, and 8 mg/L for rainbow trout. Any reading below the "
            "minimum for the species in that tank is a critical alert and is "
            "dealt with at once: check the blower or oxygenator, check the air "
            "lines and diffusers for blockages, stop feeding, and call the "
            "on-call manager. Fish that are crowding at the surface or at the "
            "inlet are showing you the same thing before the meter does.",
            "Temperature readings are taken at the same time as the oxygen "
            "reading. A steady change of a degree or more over a day deserves "
            "a note in the log even if it stays within the band, because it is "
            "often the first sign of a failing heater, chiller or thermostat.",
            "Dissolved oxygen probes foul quickly in aquaponic water. Wipe the "
            "membrane gently with a soft cloth after each use, and replace the "
            "membrane cap every three months or sooner if readings become "
            "sluggish.",
        ],
    ),
    (
        "7. Records",
        [
            "Every hand reading is written on the daily water log, form WQ-7, "
            "in ink, with the time and the initials of the person who took it. "
            "Mistakes are crossed out with a single line and initialled, never "
            "overwritten or blanked out. A reading that is outside the target "
            "band must have the action taken written beside it.",
            "Completed WQ-7 sheets are scanned into the shared drive every "
            "Friday by the farm steward and the paper copies are filed in the "
            "plant room for one year. Controller data is exported weekly to the "
            "same folder. Laboratory results are filed by the Water Quality "
            "Lead, who compares them with the hand readings and follows up any "
            "difference larger than the tolerance given on the calibration "
            "card.",
            "These records matter. They are how we spot slow trends before "
            "they become emergencies, how we show inspectors that our fish and "
            "greens are produced safely, and how a technician covering an "
            "unfamiliar farm can see at a glance what normal looks like there.",
        ],
    ),
]

# ---------------------------------------------------------------------------
# Glossary (written with CRLF line endings on purpose).
# ---------------------------------------------------------------------------
GLOSSARY_LINES = [
    "---",
    "title: Glossary of Aquaponics Terms",
    "access_groups: [public]",
    "---",
    "",
    "# Glossary of Aquaponics Terms",
    "",
    "Words and abbreviations that new members and volunteers often meet on the farms.",
    "",
    "## Terms about water",
    "",
    "- **Biofilter:** a vessel packed with plastic media where bacteria live and turn fish waste into plant food.",
    "- **Sump:** the lowest tank in the loop, where cleaned water collects before it is pumped back to the fish.",
    "- **Make-up water:** fresh water added to replace what evaporates or is taken up by plants.",
    "- **TAN:** total ammonia nitrogen, the usual way ammonia is measured in fish water.",
    "",
    "## Terms about growing",
    "",
    "- **DWC or raft bed:** deep water culture, where plants float on foam boards with their roots "
    "hanging in the water.",
    "- **Media bed:** a bed filled with gravel or expanded clay that floods and drains on a timer.",
    "- **Bolting:** when a leafy crop runs to flower early, usually because of heat, and turns bitter.",
    "",
    "## Terms about fish",
    "",
    "- **Fingerling:** a young fish, roughly the size of a finger, bought in to grow on.",
    "- **Flashing:** fish rubbing or flicking against the tank, a common sign of skin irritation.",
    "- **Q-bay:** the quarantine area at Millbrook where every new batch of fish starts its life with us.",
    "",
]


def build_manual(path: Path) -> None:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title("Water Quality Manual")
    pdf.set_author("Brightwater Aquaponics Cooperative")
    pdf.set_subject("Sampling, calibration and correction of water chemistry")
    pdf.set_creator("docvec sample corpus generator")
    pdf.set_producer("docvec make_sample_pdf.py")
    pdf.set_keywords("aquaponics water quality pH nitrate oxygen")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(20, 20, 20)

    for heading, paragraphs in MANUAL_PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", style="", size=9)
        pdf.cell(0, 6, MANUAL_TITLE, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("Helvetica", style="B", size=16)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font("Helvetica", style="", size=11)
        for para in paragraphs:
            pdf.multi_cell(0, 6, para, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(pdf.output()))


def build_binary_blob(path: Path) -> None:
    rng = random.Random(7)
    png_signature = b"\x89PNG\r\n\x1a\n"
    body = bytearray(rng.getrandbits(8) for _ in range(2048 - len(png_signature)))
    # Guarantee NUL bytes regardless of what the generator produced.
    for i in range(0, len(body), 97):
        body[i] = 0
    path.write_bytes(png_signature + bytes(body))


def main() -> None:
    manual = SAMPLE / "manuals" / "water_quality_manual.pdf"
    build_manual(manual)

    glossary = SAMPLE / "handbook" / "glossary.md"
    glossary.write_bytes("\r\n".join(GLOSSARY_LINES).encode("utf-8"))

    archive = SAMPLE / "handbook" / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE / "handbook" / "welcome.md", archive / "welcome.md")

    quarantine = SAMPLE / "quarantine"
    quarantine.mkdir(parents=True, exist_ok=True)
    (quarantine / "empty.md").write_bytes(b"")
    build_binary_blob(quarantine / "binary_blob.md")
    (quarantine / "corrupt_manual.pdf").write_bytes(manual.read_bytes()[:300])
    (quarantine / "spreadsheet.xlsx").write_bytes(b"PK\x03\x04\x14\x00junk-not-a-workbook\x00\x00\xff\xfe")

    for p in sorted(SAMPLE.rglob("*")):
        if p.is_file() and (p.parent.name in {"quarantine", "archive", "manuals"} or p.name == "glossary.md"):
            print(f"wrote {p.relative_to(ROOT)} ({p.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
