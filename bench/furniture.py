"""Page furniture for bench/changes, and cosmetic churn of a page's own markup.

``furnish`` adds what real news pages carry around (and inside) an article, each kind
rendered from a seed: seed 0 is the first capture, another seed is the same furniture on a
later request (new ad, other teasers, "Updated 7 minutes ago", new counts, new tokens, new
script state). For nav, sidebar, tokens and scripts a non-zero seed also churns the page's
*own* structures of that kind (its <nav> links, <aside> and related-teaser links, hidden
inputs and nonces, inline scripts and styles). The markup of each kind is one of several
real-world variants, picked per page, so no single class name carries the benchmark.

``CHURN`` holds the mutations that need no furniture: attribute and class churn, cache-busting
query strings on assets, tracking parameters on links.
"""

from __future__ import annotations

import json
import random
import re
from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html

__all__ = ["CHURN", "FURNITURE_KINDS", "MARK", "furnish", "strip_marks"]

FURNITURE_KINDS = ("ads", "nav", "sidebar", "timestamp", "counts", "tokens", "scripts")
MARK = "data-furniture"  # lets the bench find its own furniture; removed before serving

_AD_TEXTS = (
    "Save 30% on running shoes this week only", "Compare car insurance quotes in two minutes",
    "Your new kitchen: book a free design consultation", "Learn a language in 15 minutes a day",
    "Flights to Lisbon from 49 euros, book by Sunday", "The mattress 100,000 sleepers recommend",
    "Retire abroad? Download our free tax guide", "Meet singles in your area tonight",
)
_SUBJECTS = ("Council", "Central bank", "Researchers", "Striker", "Minister", "Start-up", "Court",
             "Festival", "Airline", "Union")
_VERBS = ("approves", "rejects", "delays", "unveils", "questions", "wins", "loses", "announces")
_OBJECTS = ("new budget plan", "record transfer", "climate target", "housing reform",
            "vaccine trial", "merger talks", "final tour dates", "rail strike deal")
_SECTIONS = ("World", "Politics", "Business", "Tech", "Science", "Sport", "Culture", "Opinion",
             "Travel", "Video", "Podcasts", "Climate")


def _hex(rng: random.Random, n: int = 16) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _headline(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"


def _teasers(rng: random.Random, n: int) -> str:
    return "".join(
        f'<li><a href="/story/{rng.randrange(10**6, 10**7)}">{escape(_headline(rng))}</a></li>'
        for _ in range(n)
    )


def _el(html: str):
    el = lxml.html.fragment_fromstring(html)
    el.set(MARK, "")
    el.tail = "\n"
    return el


# --- widgets: (variant, rng) -> HTML ----------------------------------------------------------------


def _ad_inline(v: int, rng: random.Random) -> str:
    text, click = escape(rng.choice(_AD_TEXTS)), f"https://adclick.example/c?id={_hex(rng)}"
    return [
        f'<div class="ad-slot ad-slot--inline" data-ad-unit="/21/article/inline">'
        f'<span class="ad-slot__label">Advertisement</span><a href="{click}" rel="sponsored"><p>{text}</p></a></div>',
        f'<div id="div-gpt-ad-{rng.randrange(10**12)}-1" class="gpt-container"><p class="label">Anzeige</p><p>{text}</p></div>',
        f'<aside class="advertisement native-ad"><p>Sponsored</p><h4><a href="{click}">{text}</a></h4></aside>',
        f'<div class="inline-promo" data-ad="true"><p><strong>Partner content:</strong> <a href="{click}" rel="sponsored">{text}</a></p></div>',
        f'<figure class="werbung"><a href="{click}"><img src="https://cdn.ads.example/{_hex(rng)}.jpg" alt=""></a>'
        f"<figcaption>Werbung: {text}</figcaption></figure>",
    ][v % 5]


def _ad_top(v: int, rng: random.Random) -> str:
    return (f'<div class="leaderboard"><div id="div-gpt-ad-{rng.randrange(10**12)}-0"><a href="https://adclick.example/c?id={_hex(rng)}">'
            f'<img src="https://cdn.ads.example/{_hex(rng)}.jpg" alt="{escape(rng.choice(_AD_TEXTS))}"></a></div></div>')


def _related(v: int, rng: random.Random) -> str:
    return [
        f'<aside class="related-articles"><h3>Related</h3><ul>{_teasers(rng, 3)}</ul></aside>',
        f'<div class="read-more"><p><strong>Read more:</strong> <a href="/story/{rng.randrange(10**6)}">{escape(_headline(rng))}</a></p></div>',
        f'<section class="story-recirculation"><h2>More on this story</h2><ul>{_teasers(rng, 3)}</ul></section>',
        f'<p class="also-read"><a href="/story/{rng.randrange(10**6)}">READ ALSO: {escape(_headline(rng))}</a></p>',
    ][v % 4]


def _rail(v: int, rng: random.Random) -> str:
    return [
        f'<aside class="rail"><h2>Most read</h2><ol>{_teasers(rng, 5)}</ol></aside>',
        f'<div class="sidebar-popular"><section><h2>Popular now</h2><ul>{_teasers(rng, 5)}</ul></section></div>',
    ][v % 2]


def _timestamp(v: int, rng: random.Random) -> str:
    n = rng.randint(2, 59)
    return [
        f'<div class="article-meta"><span class="updated">Updated {n} minutes ago</span></div>',
        f'<p class="live-update-time">Last updated {n} min ago</p>',
        f'<div class="story-info"><time class="relative">{n} minutes ago</time></div>',
        f'<span class="ago">vor {n} Minuten aktualisiert</span>',
    ][v % 4]


def _counts(v: int, rng: random.Random) -> str:
    views, shares, comments = rng.randint(1000, 99999), rng.randint(10, 999), rng.randint(1, 400)
    return [
        f'<div class="share-bar"><span class="views">{views:,} views</span> <span class="shares">{shares} shares</span></div>',
        f'<ul class="article-stats"><li>{views:,} reads</li><li>{comments} comments</li></ul>',
        f'<div class="engagement"><span>{views:,}</span> views · <span>{comments}</span> comments</div>',
        f'<p class="counter">{shares} Shares · {comments} Kommentare</p>',
    ][v % 4]


def _nav(v: int, rng: random.Random) -> str:
    sections = rng.sample(_SECTIONS, 7)
    items = "".join(f'<li><a href="/{s.lower()}?ref=nav{rng.randrange(100)}">{s}</a></li>' for s in sections)
    live = f'<li class="live"><a href="/live/{rng.randrange(10**5)}">Live: {escape(_headline(rng))}</a></li>'
    return f'<nav class="main-nav"><ul>{items}{live}</ul></nav>'


# --- churn of the page's own structures ----------------------------------------------------------


def _body_of(doc):
    body = doc.find("body")
    return body if body is not None else doc


def _churn_nav(doc, rng: random.Random) -> bool:
    changed = False
    for nav in doc.iter("nav"):
        if nav.get(MARK) is not None:
            continue
        for ul in nav.iter("ul", "ol"):
            items = list(ul)
            if len(items) > 1:
                items.reverse()  # reorder the menu
                for item in items:
                    ul.append(item)
                changed = True
        links = [a for a in nav.iter("a") if (a.text or "").strip()]
        if links:
            rng.choice(links).text = f"Live: {_headline(rng)}"
            changed = True
    return changed


_AUTHOR_LINK = re.compile(r"author|byline", re.I)
_TEASER_BOX = re.compile(r"related|teaser|recommend|most-?read|popular|more-?stories|read-?more", re.I)


def _in_author_box(a, box) -> bool:
    """An author box in an <aside> holds the byline, not teasers: renaming it is an edit."""
    node = a
    while node is not None:
        marks = f"{node.get('rel') or ''} {node.get('class') or ''} {node.get('itemprop') or ''}"
        if _AUTHOR_LINK.search(marks):
            return True
        if node is box:
            return False
        node = node.getparent()
    return False


def _churn_sidebar(doc, rng: random.Random, keep: set) -> bool:
    """New teaser headlines in the page's <aside>s and related/teaser boxes (never the article)."""
    changed = False
    for el in _body_of(doc).iter():
        if not isinstance(el.tag, str) or el.get(MARK) is not None:
            continue
        named = _TEASER_BOX.search(f"{el.get('class') or ''} {el.get('id') or ''}")
        if el.tag != "aside" and not named:
            continue
        if any(p is el or el in p.iterancestors() or p in el.iterdescendants() for p in keep):
            continue
        for a in el.iter("a"):
            if _in_author_box(a, el):
                continue
            if len((a.text or "").split()) >= 2 and len(a) == 0:
                a.text = _headline(rng)
                changed = True
    return changed


def _churn_tokens(doc, rng: random.Random) -> bool:
    changed = False
    for el in doc.iter("input"):
        if (el.get("type") or "").lower() == "hidden" and el.get(MARK) is None:
            el.set("value", _hex(rng, 32))
            changed = True
    for el in doc.iter("script", "style", "link"):
        if el.get("nonce"):
            el.set("nonce", _hex(rng, 22))
            changed = True
    return changed


def _churn_scripts(doc, rng: random.Random) -> bool:
    changed = False
    for el in doc.iter("script", "style"):
        kind = (el.get("type") or "").lower()
        if el.get(MARK) is not None or el.get("src") or "ld+json" in kind or not (el.text or "").strip():
            continue
        el.text = _CONTROL.sub("", el.text)
        if el.tag == "style":
            el.text += f"\n.x-{_hex(rng, 6)}{{color:inherit}}"
        elif "json" in kind:
            try:
                data = json.loads(el.text)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            data["_requestId"] = _hex(rng)
            # Escape "</" as servers do: json.dumps would turn a page's "<\/script>" back into
            # "</script>", which ends the element early and spills the JSON into the page.
            el.text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        else:
            el.text += f"\n;window.__rid={json.dumps(_hex(rng))};"
        changed = True
    return changed


def furnish(doc, paras: list, *, page_seed: str, seeds: dict[str, int]) -> None:
    """Add the furniture to ``doc`` (in place); ``paras`` are the article's body paragraphs."""
    head, body = doc.find("head"), _body_of(doc)

    def rngs(kind: str) -> tuple[int, random.Random]:
        variant = random.Random(f"{page_seed}:{kind}:variant").randrange(1000)
        return variant, random.Random(f"{page_seed}:{kind}:{seeds.get(kind, 0)}")

    # Head: token meta, config script and a style block.
    v, rng = rngs("tokens")
    if head is not None:
        head.append(_el(f'<meta name="csrf-token" content="{_hex(rng, 40)}">'))
    csrf = _hex(rng, 40)
    sv, srng = rngs("scripts")
    if head is not None:
        head.append(_el(f'<script>window.__CFG={{"rid":"{_hex(srng)}","ts":{srng.randrange(10**9, 2 * 10**9)}}}</script>'))
        head.append(_el(f"<style>.c-{_hex(srng, 6)}{{color:#{_hex(srng, 6)}}}</style>"))
    # Header with nav and a leaderboard ad; rail and footer after the content.
    nv, nrng = rngs("nav")
    av, arng = rngs("ads")
    header = _el(f'<header class="site-header">{_nav(nv, nrng)}{_ad_top(av, arng)}</header>')
    body.insert(0, header)
    rv, rrng = rngs("sidebar")
    body.append(_el(_rail(rv, rrng)))
    footer_links = "".join(f'<li><a href="/{s.lower()}">{s}</a></li>' for s in nrng.sample(_SECTIONS, 4))
    body.append(_el(
        f'<footer class="site-footer"><form class="newsletter" action="/subscribe" method="post">'
        f'<input type="hidden" name="csrf_token" value="{csrf}"><input type="email" name="email">'
        f"<button>Subscribe</button></form><ul>{footer_links}</ul></footer>"
    ))
    body.append(_el(f'<script type="application/json" id="__STATE__">{{"build":"{_hex(srng)}","ts":{srng.randrange(10**9)}}}</script>'))
    # Inside the article: meta bar before the first paragraph, ad and teaser between paragraphs.
    if paras:
        tv, trng = rngs("timestamp")
        cv, crng = rngs("counts")
        paras[0].addprevious(_el(_timestamp(tv, trng)))
        paras[0].addprevious(_el(_counts(cv, crng)))
        paras[len(paras) // 2].addnext(_el(_ad_inline(av, arng)))
        paras[max(0, (2 * len(paras)) // 3 - 1)].addnext(_el(_related(rv, rrng)))
        paras[min(1, len(paras) - 1)].addnext(_el(f'<script>(function(){{var slot="{_hex(srng)}";}})();</script>'))
    else:
        body.insert(1, _el(_ad_inline(av, arng)))
    # A later request also churns the page's own structures of the re-rendered kind.
    if seeds.get("nav"):
        _churn_nav(doc, nrng)
    if seeds.get("sidebar"):
        _churn_sidebar(doc, rrng, set(paras))
    if seeds.get("tokens"):
        _churn_tokens(doc, rng)
    if seeds.get("scripts"):
        _churn_scripts(doc, srng)


def strip_marks(doc) -> None:
    for el in doc.iter():
        if isinstance(el.tag, str) and MARK in el.attrib:
            del el.attrib[MARK]


# --- churn that needs no furniture -------------------------------------------------------------

# Control characters a page's inline script may hold, which lxml refuses in text it is given.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HASHED = re.compile(r"^(?:css|sc|jsx|emotion|svelte|styles?)[-_][A-Za-z0-9_-]{3,}$|^[A-Za-z]+[-_](?=[A-Za-z0-9]*\d)[A-Za-z0-9]{5,}$")


def churn_attributes(doc, rng: random.Random) -> bool:
    """CSS-in-JS class hashes renamed, class order shuffled, data-* ids renewed, attribute order reversed."""
    renamed: dict[str, str] = {}
    changed = False
    for el in _body_of(doc).iter():
        if not isinstance(el.tag, str) or not el.attrib:
            continue
        items = list(el.attrib.items())
        out = []
        for name, value in items:
            if name == "class":
                tokens = value.split()
                tokens = [renamed.setdefault(t, t.split("-")[0] + "-" + _hex(rng, 6)) if _HASHED.match(t) else t
                          for t in tokens]
                rng.shuffle(tokens)
                value = " ".join(tokens)
            elif name.startswith("data-") and name != MARK and re.search(r"\d", value) and len(value) < 80:
                value = re.sub(r"\d", lambda _m: str(rng.randrange(10)), value)
            out.append((name, value))
        out.reverse()
        if out != items:
            el.attrib.clear()
            for name, value in out:
                el.set(name, value)
            changed = True
    return changed


def _with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


def churn_cache_busting(doc, rng: random.Random) -> bool:
    """A new ``?v=`` on every image, script, stylesheet and source URL."""
    version = {"v": _hex(rng, 10)}
    changed = False
    for el in doc.iter("img", "script", "link", "source", "video", "audio", "iframe"):
        if el.tag == "link" and not {"stylesheet", "preload", "icon", "prefetch"} & set((el.get("rel") or "").lower().split()):
            continue
        for attr in ("src", "href", "data-src"):
            if el.get(attr) and not el.get(attr).startswith(("data:", "javascript:", "#")):
                el.set(attr, _with_params(el.get(attr), version))
                changed = True
        for attr in ("srcset", "data-srcset"):
            if el.get(attr):
                parts = [p.strip().split(" ", 1) for p in el.get(attr).split(",") if p.strip()]
                el.set(attr, ", ".join(" ".join([_with_params(p[0], version), *p[1:]]) for p in parts))
                changed = True
    return changed


def churn_tracking(doc, rng: random.Random) -> bool:
    """utm_* and click ids appended to every link."""
    params = {"utm_source": rng.choice(["twitter", "newsletter", "facebook"]), "utm_medium": "social",
              "utm_campaign": _hex(rng, 8), "fbclid": _hex(rng, 24)}
    changed = False
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if href and not href.startswith(("#", "mailto:", "javascript:", "tel:")):
            a.set("href", _with_params(href, params))
            changed = True
    return changed


CHURN = {"attributes": churn_attributes, "cache_busting": churn_cache_busting, "tracking": churn_tracking}
