#!/usr/bin/env python3
"""Every relative link in the crate's rendered documentation resolves.

Reads every HTML file under target/doc/icache_coherence (after
`cargo doc --no-deps`; another directory may be given as the argument) and
checks that each relative `href` or `src` (not http:, https:, mailto:,
javascript:, data:, or a bare #fragment) names a file that exists, relative
to the page it is on; `#fragment`s of such links must name an `id` in the
target page (except line ranges of source pages, `#12-34`, which
rustdoc's script highlights). A link to a file the package does not ship, such as
`docs/PERFORMANCE.md` from the README (the docs.rs front page), fails here,
as it would 404 on docs.rs.

Usage: python3 .ci/doc-links.py [DOC_DIR]
"""
import html.parser
import os
import re
import sys
import urllib.parse

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
EXTERNAL = ("http:", "https:", "mailto:", "javascript:", "data:", "//")


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value and tag in ("a", "img", "link", "script"):
                self.links.append(value)


def parse(path, cache={}):
    if path not in cache:
        p = Links()
        with open(path, encoding="utf-8") as f:
            p.feed(f.read())
        cache[path] = p
    return cache[path]


def main():
    doc = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "doc", "icache_coherence")
    if not os.path.isdir(doc):
        sys.exit(f"doc-links: {doc} does not exist: run `cargo doc --no-deps` first")
    pages = [os.path.join(d, f) for d, _, fs in os.walk(doc) for f in fs if f.endswith(".html")]
    checked, broken = 0, []
    for page in sorted(pages):
        for link in parse(page).links:
            if link.startswith(EXTERNAL) or link.startswith("#"):
                continue
            url = urllib.parse.urlsplit(link)
            target = os.path.normpath(os.path.join(os.path.dirname(page), urllib.parse.unquote(url.path)))
            checked += 1
            if not os.path.exists(target):
                broken.append(f"{os.path.relpath(page, doc)}: {link} (no {os.path.relpath(target, doc)})")
            elif re.fullmatch(r"\d+(-\d+)?", url.fragment or ""):
                continue  # a line range of a source page: highlighted by rustdoc's script
            elif url.fragment and target.endswith(".html") and os.path.isfile(target):
                if url.fragment not in parse(target).ids:
                    broken.append(f"{os.path.relpath(page, doc)}: {link} (no id {url.fragment!r})")
    for b in broken:
        print("BROKEN", b)
    print(f"doc-links: {len(pages)} pages, {checked} relative links, {len(broken)} broken")
    sys.exit(1 if broken or not pages else 0)


if __name__ == "__main__":
    main()
