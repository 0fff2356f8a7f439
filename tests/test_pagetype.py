"""Page types: real articles stay articles; stubs, walls, shells, error and tag pages do not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.evalset import load_eval
from pipelines.decode import decode_html
from pipelines.htmltree import parse_html
from pipelines.pagetype import PageType, Verdict, classify_page, strip_prompt
from pipelines.signals import read_signals

URL = "https://www.lokal-beispiel.de/lokales/neue-radwege-fuer-duisburg-123.html"
SENTENCES = (
    "Die Stadt Duisburg will in den kommenden zwei Jahren mehr als zwanzig Kilometer neue "
    "Radwege bauen, das hat der Rat am Donnerstag mit großer Mehrheit beschlossen.",
    "Besonders im Süden der Stadt sollen Lücken im Netz geschlossen werden, nachdem sich "
    "Anwohner seit Jahren über gefährliche Übergänge an der Düsseldorfer Straße beschwert hatten.",
    "Die Kosten von rund zwölf Millionen Euro trägt zum größten Teil das Land, der Baubeginn "
    "ist für das Frühjahr geplant und die Arbeiten sollen abschnittsweise erfolgen.",
)
NAV = "<header><nav>" + "".join(f"<a href='/r{i}/'>Rubrik {i}</a>" for i in range(12)) + "</nav>"
TEASERS = "".join(
    f"<article class='teaser'><h3><a href='/lokales/radweg-{i}.html'>Radweg im Stadtteil {i}"
    f"</a></h3><p>Der Rat hat neue Wege im Stadtteil {i} beschlossen.</p></article>"
    for i in range(12)
)


def body_text(paragraphs: int) -> str:
    """Article text as clean() joins it: paragraphs separated by a blank line."""
    return "\n\n".join(SENTENCES[i % len(SENTENCES)] for i in range(paragraphs))


def page(body: str, *, title: str = "Neue Radwege für Duisburg", head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'><title>{title}</title>"
        f"{head}</head><body>{NAV}</header>{body}<footer><p>© 2026 Lokalverlag</p></footer>"
        "</body></html>"
    )


def jsonld_head(**fields: Any) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Radwege"}
    return f'<script type="application/ld+json">{json.dumps(data | fields)}</script>'


def article_page(paragraphs: int, *, extra: str = "", head: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in body_text(paragraphs).split("\n\n"))
    return page(f"<main><article><h1>Neue Radwege</h1>{body}{extra}</article></main>", head=head)


def classify(
    source: str, text: str, *, url: str = URL, title: str | None = "Neue Radwege"
) -> Verdict:
    return classify_page(read_signals(parse_html(source), source, url), text, title)


# --- real articles ----------------------------------------------------------------------


def test_article_with_consent_manager_noscript_and_paywall_wrapper_is_an_article() -> None:
    source = article_page(
        8,
        extra="<noscript>Bitte aktivieren Sie JavaScript, um das Video zu sehen.</noscript>",
        head="<script src='https://cdn.consentmanager.net/delivery/cmp.js'></script>"
        + jsonld_head(isAccessibleForFree=False),
    ).replace("<article>", "<article class='paywall'>")
    verdict = classify(source, body_text(8))
    assert verdict == Verdict(PageType.ARTICLE)
    assert verdict.keep


def test_short_real_article_is_an_article() -> None:
    assert classify(article_page(2), body_text(2)).type is PageType.ARTICLE


def test_short_article_mentioning_cookies_once_is_an_article() -> None:
    text = body_text(3) + "\n\nDer Bäcker verkauft am Sonntag auch Cookies und Kuchen."
    assert classify(article_page(3), text).type is PageType.ARTICLE


def test_news_headline_about_an_unreachable_site_is_not_an_error_page() -> None:
    title = "Seite der Stadt nicht erreichbar"
    assert classify(page(f"<h1>{title}</h1>"), body_text(2), title=title).keep


# --- paywall stubs ----------------------------------------------------------------------


def test_declared_paid_article_delivering_only_a_teaser_is_a_stub() -> None:
    part = {"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".paid"}
    source = article_page(2, head=jsonld_head(isAccessibleForFree=False, hasPart=part))
    verdict = classify(source, body_text(2))
    assert verdict.type is PageType.PAYWALL_STUB
    assert verdict.keep
    assert "isAccessibleForFree" in verdict.detail


def test_declared_paid_article_whose_paid_part_is_delivered_is_an_article() -> None:
    part = {"@type": "WebPageElement", "isAccessibleForFree": "False", "cssSelector": ".paid"}
    source = article_page(2, head=jsonld_head(isAccessibleForFree=False, hasPart=part))
    source = source.replace("<article>", "<article class='story paid'>")
    assert classify(source, body_text(2)).type is PageType.ARTICLE


@pytest.mark.parametrize(
    "prompt",
    [
        "Jetzt weiterlesen mit WAZ+",
        "Lesen Sie jetzt weiter – mit dem Digital-Abo.",
        "Sie haben bereits ein Abo? Hier anmelden",
        "Dieser Artikel ist exklusiv für Abonnenten.",
        "Sie möchten gerne weiterlesen?",
        "Um diesen Artikel vollständig lesen zu können, benötigen Sie ein Abo.",
        "Subscribe now to continue reading.",
    ],
)
def test_teaser_ending_in_a_subscription_prompt_is_a_stub(prompt: str) -> None:
    text = body_text(3) + "\n\n" + prompt + "\n\nNur 0,99 € im ersten Monat"
    verdict = classify(article_page(3), text)
    assert verdict.type is PageType.PAYWALL_STUB, prompt


def test_long_article_ending_in_a_promotion_is_an_article() -> None:
    text = body_text(30) + "\n\nLesen Sie jetzt weiter: unser Newsletter für Duisburg."
    assert classify(article_page(30), text).type is PageType.ARTICLE


def test_prompt_inside_a_paywall_box_marks_a_short_teaser() -> None:
    box = "<div class='paywall-box'><h3>Exklusiv für Abonnenten</h3><p>Bereits Abonnent?</p></div>"
    source = article_page(2, extra=box)
    assert classify(source, body_text(2)).type is PageType.PAYWALL_STUB


def test_locked_content_tier_meta_marks_a_short_teaser() -> None:
    head = '<meta property="article:content_tier" content="locked">'
    assert classify(article_page(2, head=head), body_text(2)).type is PageType.PAYWALL_STUB


def test_strip_prompt_drops_the_prompt_and_what_follows() -> None:
    text = body_text(3) + "\n\nJetzt weiterlesen mit SZ Plus\n\nAlle Artikel für 1 €"
    assert strip_prompt(text) == body_text(3)
    assert strip_prompt(body_text(3)) == body_text(3)


# --- consent walls, JavaScript shells, error pages --------------------------------------

CONSENT_TEXT = (
    "Wir und unsere Partner verwenden Cookies und ähnliche Technologien, um Informationen "
    "auf Ihrem Gerät zu speichern und abzurufen.\n\nMit Ihrer Einwilligung verarbeiten wir "
    "personenbezogene Daten für personalisierte Werbung.\n\nSie können Ihre Zustimmung "
    "jederzeit widerrufen oder das PUR-Abo werbefrei nutzen.\n\nAlle akzeptieren"
)


def test_text_dominated_by_consent_prompts_is_a_consent_wall() -> None:
    body = "".join(f"<p>{p}</p>" for p in CONSENT_TEXT.split("\n\n"))
    verdict = classify(page(f"<div class='cmp'>{body}</div>"), CONSENT_TEXT)
    assert verdict.type is PageType.CONSENT_WALL
    assert not verdict.keep


def test_consent_notice_only_in_the_page_is_a_consent_wall() -> None:
    body = "".join(f"<p>{p}</p>" for p in CONSENT_TEXT.split("\n\n"))
    assert classify(page(f"<div id='cmp'>{body}</div>"), "").type is PageType.CONSENT_WALL


def test_consent_manager_script_and_no_text_is_a_consent_wall() -> None:
    head = "<script src='https://app.usercentrics.eu/browser-ui/latest/loader.js'></script>"
    verdict = classify(page("<main></main>", head=head), "")
    assert verdict.type is PageType.CONSENT_WALL
    assert "usercentrics" in verdict.detail


def test_empty_application_root_is_a_js_shell() -> None:
    source = page("<div id='__next'></div><script>window.__NEXT_DATA__ = {}</script>")
    text = "Rubrik 0\n\nRubrik 1\n\nBitte aktivieren Sie JavaScript, um diese Seite zu nutzen."
    assert classify(source, text).type is PageType.JS_SHELL


def test_noscript_prompt_on_an_empty_page_is_a_js_shell() -> None:
    source = page("<noscript>You need to enable JavaScript to run this app.</noscript>")
    verdict = classify(source, "")
    assert verdict.type is PageType.JS_SHELL
    assert "noscript" in verdict.detail


def test_server_rendered_app_with_an_article_is_an_article() -> None:
    source = (
        article_page(2)
        .replace("<main>", "<div id='root'><main>")
        .replace("</main>", "</main></div>")
    )
    assert classify(source, body_text(2)).type is PageType.ARTICLE


@pytest.mark.parametrize(
    "title",
    ["Seite nicht gefunden", "404 - Page not found", "Dieser Artikel ist nicht mehr verfügbar"],
)
def test_error_title_with_little_text_is_a_soft_404(title: str) -> None:
    text = "Leider konnte die Seite nicht gefunden werden. Zur Startseite"
    verdict = classify(page(f"<h1>{title}</h1><p>{text}</p>", title=title), text, title=title)
    assert verdict.type is PageType.SOFT_404


def test_error_heading_under_a_generic_title_is_a_soft_404() -> None:
    source = page("<h1>Hoppla! Diese Seite existiert nicht.</h1>", title="Lokalzeitung")
    assert classify(source, "Zur Startseite", title=None).type is PageType.SOFT_404


# --- tag and listing pages --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/thema/radwege/", "/tag/duisburg/", "/autor/erika-muster/", "/schlagwort/rat/seite/2/"],
)
def test_tag_url_full_of_teasers_is_a_tag_page(path: str) -> None:
    text = "\n\n".join(f"Der Rat hat neue Wege im Stadtteil {i} beschlossen." for i in range(12))
    verdict = classify(page(f"<main>{TEASERS}</main>"), text, url=f"https://lokal.de{path}")
    assert verdict.type is PageType.TAG_PAGE
    assert not verdict.keep


def test_article_below_a_topic_path_is_an_article() -> None:
    url = "https://lokal.de/thema/radwege/neue-radwege-fuer-duisburg-123.html"
    source = article_page(2, extra=TEASERS)
    assert classify(source, body_text(2), url=url).type is PageType.ARTICLE


def test_tag_url_with_an_article_of_its_own_is_an_article() -> None:
    source = article_page(40, extra=TEASERS)
    assert classify(source, body_text(40), url="https://lokal.de/thema/radwege/").keep


@pytest.mark.parametrize("url", ["https://lokal.de/", "https://lokal.de/lokales/page/3/"])
def test_home_and_paginated_pages_of_teasers_are_listings(url: str) -> None:
    text = "\n\n".join(f"Der Rat hat neue Wege im Stadtteil {i} beschlossen." for i in range(12))
    assert classify(page(f"<main>{TEASERS}</main>"), text, url=url).type is PageType.LISTING


def test_article_page_with_many_related_teasers_is_an_article() -> None:
    assert classify(article_page(3, extra=TEASERS), body_text(3)).type is PageType.ARTICLE


# --- text without spaces ----------------------------------------------------------------


def test_japanese_article_is_counted_by_characters() -> None:
    text = "南海トラフ地震の臨時情報について、気象庁は十三日、調査を終了したと発表した。" * 20
    head = jsonld_head(isAccessibleForFree=False)
    assert classify(article_page(1, head=head), text).type is PageType.ARTICLE


# --- the evaluation pages ---------------------------------------------------------------


def test_eval_pages_with_a_gold_body_are_kept() -> None:
    """Every gold body is a real article: it must classify as ARTICLE (or PAYWALL_STUB)."""
    try:
        pages = [p for p in load_eval() if p.body]
    except FileNotFoundError as exc:
        pytest.skip(f"evaluation set not available: {exc}")
    rejected = []
    for eval_page in pages:
        source = decode_html(eval_page.read_html(), "text/html").text
        signals = read_signals(parse_html(source), source, eval_page.url or "https://eval.invalid/")
        verdict = classify_page(signals, eval_page.body or "", eval_page.title)
        if not verdict.keep:
            rejected.append((eval_page.id, verdict))
    assert not rejected
