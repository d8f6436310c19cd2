"""Phoneme coverage of the deep-cloning prompt lists, models/acoustic/prompts/<lang>.txt.

A person clones their voice by reading one of these lists aloud (one sentence a
line).  This script phonemizes each list with the project's text frontend
(build/examples/tools/ganvoice-phonemize, through models.acoustic.ttsdrive) and
reports, per language: sentences, words, distinct phonemes, the phonemes heard
fewer than MIN_COUNT times, and the phonemes of the language that the list never
has.  The language's phoneme set is what espeak-ng gives for the list together
with SAMPLE, a word list per language that holds every phoneme of it.

  /usr/bin/python3 -m models.acoustic.prompt_coverage [LANG ...]   # en es fr it de ru ko cs
  /usr/bin/python3 -m models.acoustic.prompt_coverage --file my.txt --voice pl
  /usr/bin/python3 -m models.acoustic.prompt_coverage --check      # exit 1 on a bad list

A phoneme is one of ganvoice-phonemize's symbols with the marks that follow it
(length, nasal, palatal, ...) and, per language, the affricates, diphthongs and
aspirated stops of UNITS; in Italian a doubled consonant counts as a long one
("nn" -> "nː", as espeak-ng writes "tː").  Stress marks and pauses are left out.
"""
import argparse
import collections
import os
import sys
import unicodedata

from models.acoustic.ttsdrive import phonemize

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPTS = os.path.join(HERE, "prompts")
LINES = 60
MAX_CHARS = 200
MIN_COUNT = 3
LENGTH = {"words": (6, 16), "syllables": (15, 40)}  # a comfortable sentence

# list name -> espeak-ng language
VOICES = {"en": "en-us", "es": "es", "fr": "fr", "it": "it", "de": "de", "ru": "ru", "ko": "ko", "cs": "cs"}

STRESS = "ˈˌ"
MARKS = "ːˑʲʰʷˠ"  # modifier letters that belong to the symbol before them (besides combining marks)
VOWELS = "aeiouyɐɑɒæɛɜɞəɘɚɪɨʉʊʌɔøœɶɤɯɵʏ"

# symbol sequences counted as one phoneme (a value renames the sequence)
UNITS = {
    "en-us": ["tʃ", "dʒ", "aɪ", "aʊ", "eɪ", "oʊ", "ɔɪ"],
    "es": ["tʃ"],
    "it": ["tʃ", "dʒ", "ts", "dz", ("rɾ", "rː")],
    "de": ["pf", "ts", "tʃ", "dʒ", "aɪ", "aʊ", "ɔø"],
    "ru": ["ts", "tʃ"],
    "ko": ["tʃh", "kh", "th", "ph", "tɕ", "dʑ"],
    "cs": ["ts", "tʃ", "dz", "dʑ", "dʒ", "aʊ", "eʊ", "oʊ", "eɪ"],
}
# languages whose doubled consonants are long ones (elsewhere a doubled symbol is two phonemes)
GEMINATES = {"it"}

# Words that hold every phoneme espeak-ng gives for the language (written for this script).
SAMPLE = {
    "en-us": "think this measure sing church judge yes wet hat cat father bought boy bite bout boat book boot zoo"
             " but bird about beat bit bet butter north start near cure hair vision button little water"
             " go day happy city the sure cloth finger fire hour ahead wanted four",
    "es": "perro caro niño jamón gente chico llave yo hielo cazar zapato cielo queso guerra pingüino fuego"
          " agua hago dedo haber lobo ahí rey hoy huevo mundo ángel once examen enfermo ancho mismo hombre causa",
    "fr": "un bon vin blanc lune peur feu le chat jour gagner oui huit loi rue rouge beau bol fête été"
          " patte pâte pied fille travail yeux deux sœur brun thé donc cinq taxi examen montagne côte sûr",
    "it": "figlio gnocchi pizza zero zaino cena gelato casa rosa sci scena pesce ghiaccio chiesa gatto"
          " nonno mamma bello carro cuore uovo piede ieri bene perché però tutto sasso fatto legge"
          " accento azione fuoco acqua sbaglio smettere anche lungo inferno caffè babbo freddo oggi"
          " mezzo leggo troppo bagno",
    "de": "Leute Haus Pfad Zahn Tschüss Dschungel Bach ich Milch König Hölle Hütte Bett Bär Mann Kahn"
          " Sohn Sonne Mut Mutter bitte Lied See Genie Ruhe lang jung ja vier Vater Wasser besser Rose"
          " Abend Zeit Eis über Dach Post Stück Kirche Käse Kamera",
    "ru": "дом щи ищу ещё мыло пыль быть тётя дядя пять мять вилка ветер фея сила зима лес нет рис"
          " хитрый гиря кино шить жить жёлтый цирк чай юг яма ёлка этот сад сесть мягкий зал фото"
          " мужчина поезд молоко хорошо говорить воробей бежать дело жизнь вещь на земле",
    "ko": "가다 까다 카다 다리 따로 타다 바다 빠르다 파도 자다 짜다 차다 사다 싸다 하다 마음 나무"
          " 라면 강 밖 부엌 낮 꽃 밭 앞 입 집 눈 물 밥 곧 옷 있다 좋다 의사 왜 귀 뭐 얘기 예쁘다"
          " 어머니 여름 요리 유리 애기 외국 원 웨 위 아버지 짜장면 빨리 할머니 학교 최고",
    "cs": "řeka tři dům kůň noc auto euro moucha chata hora ďábel těžký ňadra čaj džus cena medvěd"
          " pěna mít bílý vůz dítě Praha kdo gól jaro lžíce zlato šest žena myš vy nový mléko okno"
          " sedm prst banka fazole vejce podzim",
}


def is_mark(s):
    return s in MARKS or unicodedata.combining(s) != 0


def phonemes(symbols, voice):
    """ganvoice-phonemize's symbols of one text -> its phonemes (see the module's docstring)."""
    units = sorted(((u, u) if isinstance(u, str) else u for u in UNITS.get(voice, [])),
                   key=lambda u: -len(u[0]))
    out, word = [], []
    symbols = [s for s in symbols if s not in STRESS] + [" "]
    i = 0
    while i < len(symbols):
        s = symbols[i]
        if is_mark(s):
            if word:
                word[-1] += s
            i += 1
            continue
        if not s.isalpha():
            out.extend(word)
            word = []
            i += 1
            continue
        for seq, name in units:
            if "".join(symbols[i:i + len(seq)]) == seq and all(not is_mark(c) for c in symbols[i:i + len(seq)]):
                s = name
                i += len(seq)
                break
        else:
            i += 1
        if voice in GEMINATES and word and word[-1] == s and "ː" not in s and s[0] not in VOWELS:
            word[-1] = s + "ː"
        else:
            word.append(s)
    return out


def read_list(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def check(paths):
    """The list rules: exactly LINES lines, none empty, none with a digit, none over MAX_CHARS characters."""
    bad = 0
    for path in paths:
        lines = read_list(path)
        problems = []
        if len(lines) != LINES:
            problems.append("%d lines, not %d" % (len(lines), LINES))
        for n, line in enumerate(lines, 1):
            if not line.strip():
                problems.append("line %d is empty" % n)
            if any(c.isdigit() for c in line):
                problems.append("line %d has a digit" % n)
            if len(line) > MAX_CHARS:
                problems.append("line %d has %d characters" % (n, len(line)))
        for p in problems:
            print("%s: %s" % (os.path.relpath(path), p))
        bad += bool(problems)
    print("%d list(s) checked, %d with problems" % (len(paths), bad))
    return 1 if bad else 0


def hangul_initials(lines):
    """Initial consonant letters of Hangul syllables (espeak-ng does not tell tense from plain ones)."""
    counts = collections.Counter()
    for line in lines:
        for c in line:
            if "\uac00" <= c <= "\ud7a3":
                counts[chr(0x1100 + (ord(c) - 0xac00) // 588)] += 1
    return counts


def fmt(counter, keys, where=None):
    """"p:count" for each key, with the list's line numbers after "@" where given."""
    out = []
    for k in keys:
        out.append("%s:%d" % (k, counter[k]))
        if where is not None:
            out[-1] += "@" + ",".join(str(n) for n in sorted(where[k]))
    return " ".join(out) or "-"


def length(text):
    """(Hangul syllables, "syllables") for Korean text, else (words, "words")."""
    syllables = sum("\uac00" <= c <= "\ud7a3" for c in text)
    return (syllables, "syllables") if syllables else (len(text.split()), "words")


def report(name, path, voice):
    lines = read_list(path)
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    texts = [line for _, line in numbered]
    got = phonemize(texts + [SAMPLE[voice]] if voice in SAMPLE else texts, voice)
    counts, where = collections.Counter(), collections.defaultdict(set)
    for (n, _), symbols in zip(numbered, got):
        for p in phonemes(symbols, voice):
            counts[p] += 1
            where[p].add(n)
    sample = set(phonemes(got[-1], voice)) if voice in SAMPLE else set()
    sizes = [length(t) for t in texts]
    unit = sizes[0][1] if sizes else "words"
    low, high = LENGTH[unit]
    odd = ["%d (%d)" % (n, k) for (n, _), (k, _) in zip(numbered, sizes) if not low <= k <= high]
    rare = sorted((p for p in counts if counts[p] < MIN_COUNT), key=lambda p: (counts[p], p))
    never = sorted(sample - set(counts))
    print("== %s (%s, espeak-ng %s)" % (name, os.path.relpath(path), voice))
    print("  sentences %d, words %d, %s a sentence %d-%d, phonemes %d, distinct %d"
          % (len(texts), sum(len(t.split()) for t in texts), unit, min(k for k, _ in sizes),
             max(k for k, _ in sizes), sum(counts.values()), len(counts)))
    if odd:
        print("  lines outside %d-%d %s: %s" % (low, high, unit, " ".join(odd)))
    print("  under %d (count@lines): %s" % (MIN_COUNT, fmt(counts, rare, where)))
    if voice in SAMPLE:
        print("  never (in the sample, not in the list): %s" % (" ".join(never) or "-"))
        print("  not in the sample (count@lines): %s" % fmt(counts, sorted(set(counts) - sample), where))
    else:
        print("  never: unknown, no word sample for %s in this script" % voice)
    if voice == "ko":
        initials = hangul_initials(texts)
        plain = [chr(0x1100 + i) for i in range(19)]
        rare_letters = [c for c in plain if initials[c] < MIN_COUNT]
        print("  initial consonant letters under %d: %s" % (MIN_COUNT, fmt(initials, rare_letters)))
    print("  all: %s" % fmt(counts, sorted(counts, key=lambda p: (-counts[p], p))))
    return len(texts), len(counts), [(p, counts[p]) for p in rare], never


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("langs", nargs="*", help="lists to report (default: all of %s)" % " ".join(VOICES))
    ap.add_argument("--check", action="store_true", help="only check the lists' form; exit 1 on a problem")
    ap.add_argument("--file", help="a list of one's own (one sentence a line) instead of the project's")
    ap.add_argument("--voice", default="en-us", help="espeak-ng language of --file (default en-us)")
    args = ap.parse_args(argv)
    for lang in args.langs:
        if lang not in VOICES:
            ap.error("no list for %r (have %s)" % (lang, " ".join(VOICES)))
    if args.file:
        lists = [(os.path.basename(args.file), args.file, args.voice)]
    else:
        lists = [(lang, os.path.join(PROMPTS, lang + ".txt"), VOICES[lang]) for lang in args.langs or VOICES]
    if args.check:
        return check([path for _, path, _ in lists])
    rows = [(name,) + report(name, path, voice) for name, path, voice in lists]
    if len(rows) > 1:
        print("\n| list | sentences | distinct phonemes | under %d | never |" % MIN_COUNT)
        print("|---|---|---|---|---|")
        for name, sentences, distinct, rare, never in rows:
            rare = " ".join("%s (%d)" % r for r in rare) or "-"
            print("| %s | %d | %d | %s | %s |" % (name, sentences, distinct, rare, " ".join(never) or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
