"""What credit strings and body credit lines name: persons, agencies and desks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import unescape
from types import MappingProxyType

AGENCIES = MappingProxyType(
    {
        **dict.fromkeys(("dpa", "deutsche presse-agentur", "deutsche presseagentur"), "dpa"),
        **dict.fromkeys(("afp", "agence france-presse", "agence france presse"), "AFP"),
        **dict.fromkeys(("ap", "associated press", "the associated press"), "AP"),
        **dict.fromkeys(("reuters", "thomson reuters"), "Reuters"),
        **dict.fromkeys(("epd", "evangelischer pressedienst"), "epd"),
        **dict.fromkeys(("kna", "katholische nachrichten-agentur"), "KNA"),
        **dict.fromkeys(("kap", "kathpress"), "Kathpress"),
        **dict.fromkeys(("sda", "keystone-sda", "schweizerische depeschenagentur"), "SDA"),
        **dict.fromkeys(("apa", "austria presse agentur"), "APA"),
        **dict.fromkeys(("sid", "sport-informations-dienst"), "SID"),
        **dict.fromkeys(("dts", "dts nachrichtenagentur"), "dts"),
        **dict.fromkeys(("agenturen", "agencies"), "Agenturen"),
        **{name: name for name in ("ddp", "dapd", "idea", "ots", "Bloomberg", "ANSA", "EFE")},
        "dpa-afx": "dpa-AFX",
        "age": "AgE",
    }
)
"""News agency credits: casefolded spelling -> canonical credit."""


# Yoast and similar plugins type the owner of a personal site as both Person and Organization.
_PERSONAL_SITE = re.compile(r'\[\s*"Person"\s*,\s*"Organization"\s*\]')

_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"\S+(?:@|\[at\]|\(at\))\S+")
_LABEL = re.compile(
    r"^(?:von|vom|by|from|written by|posted by|geschrieben von|verfasst von|veröffentlicht von"
    r"|texte?(?: und| &) fotos?|texte?(?: von)?|autor(?:in|innen|[*:/]in(?:nen)?)?(?: von)?"
    r"|autoren|author"
    r"|quelle|eine? (?:beitrag|kommentar|gastbeitrag|interview|bericht|analyse|glosse|reportage"
    r"|kolumne|rezension|essay) von|gastbeitrag von)\b[\s:]*",
    re.I,
)
# A credit for pictures or translation is not authorship: it ends the text credit.
_OTHER_CREDIT = re.compile(
    r"(?:^|\s)(?:fotos?|bild(?:er)?|illustration(?:en)?|grafik(?:en)?|videos?|kamera|photos?"
    r"|mitarbeit|übersetzung)\b.*$",
    re.I,
)
_TAIL = re.compile(
    r"[|•·]|\b(?:stand|aktualisiert|veröffentlicht|erschienen|zuletzt|published|updated|lesezeit"
    r"|alle (?:artikel|beiträge)|mehr (?:vom|zum|von)|zur autorenseite|profil|kontakt|folgen"
    r"|follow)\b|\b\d{1,2}:\d{2}|\b\d{1,2}\.\s?\d{1,2}\.|\b(?:19|20)\d{2}\b"
    r"|\b\d{1,2}\.? (?:jan|feb|mär|apr|mai|jun|jul|aug|sep|okt|oct|nov|dez|dec)",
    re.I,
)
_ROLE = re.compile(
    r"\b(?:(?:freie|ständige|leitende)[rn]?\s)?(?:[\w-]+-)?(?:chef)?(?:redakteur|korrespondent"
    r"|reporter|autor|gastautor|kolumnist|volontär|expert|moderator|mitarbeiter|herausgeber"
    r"|ressortleiter|editor|correspondent|staff writer|contributor)(?:in|innen|en|e)?\b",
    re.I,
)
_SPLIT = re.compile(
    r"\s*(?:[,;/&+]|\s(?:und|and|sowie|mit|with|u\.)\s|\sim gespräch mit\s)\s*", re.I
)
_PARENS = re.compile(r"\(([^()]*)\)")
# Words that mark an organisation, a medium or a desk, never a person.
_ORG = re.compile(
    r"^(?:der|die|das|the)\s|\b(?:gmbh|ag|kg|se|e\.\s?v|inc|ltd|llc|corp|verlag|online|news|tv"
    r"|radio|media|medien|fernsehen|rundfunk|stiftung|verband|bund|portal|gruppe|partei|institut"
    r"|universität|ministerium|polizei|feuerwehr|verein|abteilung|kirche|bistum|staff|editorial"
    r"|editors|blog|shop|stadt|gemeinde|landkreis|deutsche[rs]?)\b|(?:redaktion|team|zeitung"
    r"|agentur|nachrichten|magazin|illustrierte|kurier|anzeiger|rundschau|tagblatt|journal"
    r"|presse|pressestelle|desk)\b|\.(?:de|com|at|ch|net|org|info|eu)\b",
    re.I,
)
# What CMSs put where a name belongs: placeholders, theme credits, weekdays, mangled hosts.
_JUNK = re.compile(
    r"\b(?:gast|guest|anonym|anonymous|unknown|unbekannt|unbenannt|untitled|name|sagt|says"
    r"|designed|design|themes?|powered|follow|user|publisher|author|editor|artikel|beitrag"
    r"|beiträge|empfehlen|teilen|drucken|zvg|red|montag|dienstag|mittwoch|donnerstag|freitag"
    r"|samstag|sonntag|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|admin"
    r"|webmaster|\s(?:de|com|net|org|at|ch)$",
    re.I,
)
# dpa's regional and topic services: "dpa/lnw" credits the agency, not a person "lnw"
_SERVICE = re.compile(r"l(?:bb|bn|by|he|mv|ni|no|nw|rs|sa|sn|sw|th)|tmn")
_ACRONYM = re.compile(r"\b[A-ZÄÖÜ]{2,}\d*\b")
_KUERZEL = re.compile(r"^[a-zäöü]{2,5}$")
# German function words that look like a newsroom Kürzel on a credit line
_NOT_KUERZEL = re.compile(
    r"red|rd|ots|und|oder|der|die|das|den|dem|des|ein|eine|von|vom|mit|bei|aus|für|im|am|zum|zur"
    r"|auf|an|in|ist|wie|was|wer|nur|so|da|es|er|sie|wir|ihr|ich|du|man|aber|auch|noch|hier|mehr"
    r"|alle|kein|nach|über|vor|foto|text"
)
_PARTICLES = re.compile(r"von|vom|zu|zum|zur|der|den|van|de|del|della|di|da|du|le|la|bin|ibn|al")
_WORD = re.compile(r"^[\w'’.-]+$")
_NON_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Credits:
    """What byline strings credit, each kind de-duplicated in page order."""

    names: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    """Desks, the site itself or other bodies ("DER SPIEGEL", "Redaktion", "PETA-Team")."""

    def __add__(self, other: Credits) -> Credits:
        return Credits(
            tuple(dict.fromkeys(self.names + other.names)),
            tuple(dict.fromkeys(self.agencies + other.agencies)),
            tuple(dict.fromkeys(self.organizations + other.organizations)),
        )


@dataclass(frozen=True, slots=True)
class SiteNames:
    """The site's own names, which are never an author, and its HTML source."""

    keys: tuple[str, ...] = ()
    """Squashed site name, publisher, host and host labels (``squash``)."""
    source: str = ""

    @property
    def personal(self) -> bool:
        """Whether the site represents a person, whose name is then a valid author."""
        # str.find and a regex on a small window: a regex scan of a whole page costs ~0.3 ms
        start = self.source.find('"Person"')
        while start != -1:
            if _PERSONAL_SITE.search(self.source, max(start - 4, 0), start + 40):
                return True
            start = self.source.find('"Person"', start + 8)
        return False


def agency_of(value: str) -> str | None:
    """The canonical agency credit ``value`` names ("Deutsche Presse-Agentur" -> "dpa")."""
    return AGENCIES.get(" ".join(value.split()).strip(" .:-–()").casefold())


def squash(value: str) -> str:
    """Casefolded letters and digits only: how site names are compared."""
    return _NON_ALNUM.sub("", value.casefold())


def site_of(names: Iterable[str | None], source: str = "") -> SiteNames:
    """The site from its names (site name, publisher, host) and its HTML source."""
    keys: list[str] = []
    for name in filter(None, names):
        keys.append(squash(name))
        if "." in name and " " not in name:  # a host also goes by its labels: "mdr", "wdr"
            keys += [squash(label) for label in name.split(".")[:-1] if not label.startswith("www")]
    return SiteNames(tuple(k for k in dict.fromkeys(keys) if len(k) >= 2), source)


def _is_site(part: str, site: SiteNames) -> bool:
    """Whether ``part`` names the site ("Mdr", "MDR THÜRINGEN", "Helmholtz Klima").

    A single word must match exactly: a blogger's nickname often extends the host name.
    """
    name, words = squash(part), part.split()
    first = squash(words[0])
    matched = any(
        name == key
        or (words[0].isupper() and first == key)
        or (len(words) > 1 and len(key) >= 5 and (name.startswith(key) or key.startswith(name)))
        for key in site.keys
    )
    person_like = not _ORG.search(part) and not _ACRONYM.search(part)
    return matched and not (person_like and site.personal)


def _kind(part: str, site: SiteNames) -> str:
    """What one part of a byline is: "agency", "name", "org" or "junk"."""
    words = part.split()
    if agency_of(part):
        return "agency"
    if _JUNK.search(part) or len(words) > 6 or len(part) > 60:
        return "junk"
    if _is_site(part, site) or _ORG.search(part):
        return "org"
    if len(words) > 1 and not part.isupper() and _ACRONYM.search(part):
        return "org"  # "SWR Sport", "EFC Bayern": an acronym in a mixed-case name is a body
    if len(words) > 5 or not all(_WORD.match(word) for word in words):
        return "junk"
    if len(words) == 1:
        word = words[0]
        if _KUERZEL.match(word):
            return "junk" if _NOT_KUERZEL.fullmatch(word) else "name"
        return "name" if len(word) >= 3 and not word.isupper() and not word.isdigit() else "junk"
    capitalised = all(w[0].isupper() or _PARTICLES.fullmatch(w.casefold()) for w in words)
    return "name" if capitalised and not any(ch.isdigit() for ch in part) else "junk"


def _prose(part: str) -> bool:
    """Several words, one lowercase and neither a particle nor an organisation word."""
    words = part.split()
    lowercase = any(w[0].islower() and not _PARTICLES.fullmatch(w) for w in words)
    return len(words) > 1 and lowercase and not _ORG.search(part)


def _strip_label(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _LABEL.sub("", text.strip(" :-–—,"))
    return text


def parse_credit(raw: str, site: SiteNames = SiteNames()) -> Credits:
    """Split one byline string into person names, agency and organisation credits.

    Strips "Von"/"By"/"Autor:" labels, roles ("Redakteur", "FOCUS-Online-Experte"), e-mail
    addresses, URLs and date or "Stand:" tails; splits "A und B", "A, B", "A & B", "A/B";
    "Name (dpa)" gives an agency. A phrase yields no name at all; a single word only in a
    clean list of single names (beside full names or other credits it is a place).
    """
    text = " ".join(_EMAIL.sub(" ", _URL.sub(" ", unescape(raw))).split())
    agencies = [
        a for inner in _PARENS.findall(text) for a in map(agency_of, _SPLIT.split(inner)) if a
    ]
    text = _strip_label(_PARENS.sub(" ", text))
    tail = _TAIL.search(text)
    text = _OTHER_CREDIT.sub("", text[: tail.start()] if tail else text)
    found: dict[str, list[str]] = {"agency": agencies, "name": [], "org": [], "junk": []}
    for part in _SPLIT.split(text):
        part = " ".join(_strip_label(_ROLE.sub(" ", part)).strip(" .:-–—'\"").split())
        if _prose(part):
            return Credits(agencies=tuple(dict.fromkeys(agencies)))  # a sentence, not a byline
        if part and not (found["agency"] and _SERVICE.fullmatch(part)):
            kind = _kind(part, site)
            found[kind].append(agency_of(part) or part if kind == "agency" else part)
    names = found["name"]
    single = [n for n in names if " " not in n and not _KUERZEL.match(n)]
    if found["org"] or found["junk"] or len(single) != 1 or len(names) > 1:
        names = [n for n in names if n not in single]  # "Haefliger, London"; "Kirche, Münster"
    return Credits(names=tuple(names)) + Credits((), tuple(found["agency"]), tuple(found["org"]))


_DATELINE = re.compile(
    r"^[A-ZÄÖÜ][\w.'’/ -]{1,40}?\s*\((?P<credit>[^()]{2,30})\)\s*[-–—:]\s+(?=\S)"
)
_LINE_LABEL = re.compile(r"^(?:von|vom|text|texte|autor|autorin|by|quelle)\b", re.I)
_CREDIT_TOKENS = re.compile(r"[\s/,;()]+")
_DESK = re.compile(r"redaktion|team\b|desk\b", re.I)
_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright)\s*(?:(?:19|20)\d\d\s*)?", re.I)
_SIGN_OFFS = re.compile(r"euer|eure|dein|deine|ihr|ihre|gruß|grüße|lg|vg|cheers", re.I)
_SENTENCE_END = (".", "!", "?", "“", '"', "»", "…", ")")
_EDGE_LINES = 3
_MAX_CREDIT_LINE = 80


@dataclass(frozen=True, slots=True)
class TextCredits:
    """Credits stated in the first and the last body lines, and the edits that remove them."""

    head: Credits = Credits()
    tail: Credits = Credits()
    edits: tuple[tuple[int, str], ...] = ()


def text_credits(lines: Sequence[str], site: SiteNames) -> TextCredits:
    """Credit lines among the first and last three body lines.

    A dateline ("DUISBURG (dpa) – Die Stadt …") gives its agency and loses only its prefix;
    a line that is nothing but a credit ("Von Max Muster", "(red)", "/ jb", "jb/dpa",
    "IN-Redaktion", a lone full name as the last line) goes; a sign-off ("Euer Hans")
    credits its writer and stays.
    """
    head, tail = Credits(), Credits()
    edits: list[tuple[int, str]] = []
    first = range(min(_EDGE_LINES, len(lines)))
    for index in (*first, *range(max(len(lines) - _EDGE_LINES, first.stop), len(lines))):
        line = lines[index]
        dateline = _DATELINE.match(line) if index in first else None
        found = (
            [a for a in map(agency_of, _SPLIT.split(dateline["credit"])) if a] if dateline else []
        )
        last = index == len(lines) - 1
        credit = Credits(agencies=tuple(found)) if found else _credit_line(line, site, last)
        if credit is None and last and index > 0:
            signed = _signature(line, lines[index - 1], site)
            tail += signed or Credits()
            if signed is not None and not _SIGN_OFFS.fullmatch(line.split()[0]):
                edits.append((index, ""))  # a lone name goes; a sign-off is part of the text
            continue
        if credit is None:
            continue
        edits.append((index, line[dateline.end() :] if dateline and found else ""))
        head, tail = (head + credit, tail) if index in first else (head, tail + credit)
    return TextCredits(head, tail, tuple(edits))


def _signature(line: str, previous: str, site: SiteNames) -> Credits | None:
    """The name on a last line that is only a full name ("Stefan Wasmer") or a sign-off."""
    words = _COPYRIGHT.sub("", line).split()
    if words and _SIGN_OFFS.fullmatch(words[0]):
        words = words[1:]
    elif not previous.rstrip().endswith(_SENTENCE_END) or line.endswith(_SENTENCE_END):
        return None  # a name closes the text after its last sentence, with no stop of its own
    name = " ".join(words)
    if not 1 <= len(words) <= 3 or (len(words) == 1 and line == name):  # one word: anything
        return None
    return Credits((name,)) if _kind(name, site) == "name" else None


def _credit_line(line: str, site: SiteNames, last: bool = False) -> Credits | None:
    """The credits of a line that holds nothing but a credit, else None."""
    first, _, rest = line.partition(";")
    # "ssi, dan; Foto: Shutterstock; Erstveröffentlichung: 4.4.18": labelled notes may follow
    if len(line) > _MAX_CREDIT_LINE or (rest and not all(":" in s for s in rest.split(";"))):
        return None
    label = _LINE_LABEL.match(first)
    if label and not first.rstrip().endswith((".", "!", "?")):
        found = parse_credit(first, site)
        if label[0].lower() == "quelle":  # where a report came from, not who wrote it
            found = Credits((), found.agencies, found.organizations + found.names)
        return found if found.names or found.agencies or found.organizations else None
    desk = first.strip()
    if _DESK.search(desk) and len(desk.split()) <= 4 and _kind(desk, site) == "org":
        return Credits(organizations=(desk,))  # "IN-Redaktion", "Lokalredaktion Duisburg"
    tokens = [t for t in _CREDIT_TOKENS.split(first.strip(" –—-")) if t]
    agencies = [a for a in map(agency_of, tokens) if a]
    kuerzel = [t for t in tokens if _KUERZEL.match(t) and not _NOT_KUERZEL.fullmatch(t)]
    names = [t for t in kuerzel if not (agencies and _SERVICE.fullmatch(t))]
    # every token an agency, a Kürzel, "red" (the newsroom) or the site's name: "MDR (dst)"
    others = [t for t in tokens if t not in kuerzel and not agency_of(t) and t != "red"]
    if not tokens or any(not _is_site(t, site) for t in others):
        return None
    if first == tokens[0] and not last:  # a bare "dns" may be a word; "(dns)" is a credit
        return None
    return Credits(tuple(names), tuple(agencies)) if names or agencies or "red" in tokens else None
