"""HTML to PDF with WeasyPrint, paying once per process for the fonts and for each stylesheet.

Left to itself WeasyPrint loads a fresh fontconfig configuration (every installed font) and
parses the document's `<style>` again for each document. Letters come from a few templates
whose CSS is the same for every debtor, so both are done once here: one FontConfiguration
for the process, and the parsed CSS of each distinct `<style>` text kept (a few templates,
so a few entries). The CSS then reaches WeasyPrint as a user stylesheet instead of an author
one, which changes nothing for a letter: it has no other stylesheet and no `!important`, and
user rules beat the browser defaults just as author rules do.

WeasyPrint does not promise thread safety, and its layout holds the GIL anyway: one document
at a time per process.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import BinaryIO

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

_LOCK = threading.Lock()
# Only a bare <style> (no media or other attributes), and only when it is the document's one.
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def write_pdf(html: str, base_url: str, fetcher: URLFetcher, out: BinaryIO) -> int:
    """Render `html` into `out`; return the page count."""
    with _LOCK:
        fonts = _fonts()
        styles = _STYLE.findall(html)
        if len(styles) == 1:
            sheets = [_stylesheet(styles[0], base_url, fetcher)]
            html = _STYLE.sub("", html, count=1)
        else:
            sheets = []
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
            stylesheets=sheets, font_config=fonts
        )
        document.write_pdf(out)
        return len(document.pages)


@lru_cache(maxsize=1)
def _fonts() -> FontConfiguration:
    return FontConfiguration()


@lru_cache(maxsize=32)
def _stylesheet(css: str, base_url: str, fetcher: URLFetcher) -> CSS:
    return CSS(string=css, base_url=base_url, url_fetcher=fetcher, font_config=_fonts())
