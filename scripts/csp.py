"""The page's Content-Security-Policy, written into index.html after a build.

The policy says what the page may load and run: its own files, the one
inline script Trunk writes to start the wasm module (named by the SHA-256
of its text, so no other inline script runs), WebAssembly compiled from
its own module ('wasm-unsafe-eval', which instantiating any module needs),
and images and clips it makes itself (data: and blob: URLs, for the PNG,
SVG and WebM exports). Nothing from another origin, no inline event handler,
no style attribute, no plugin, no <base>, no form submission. A page that
a link or a scenario file tricked into writing HTML could therefore run
nothing of it.

The hash changes with every build (the loader names the hashed files), so
the policy cannot sit in the source index.html: scripts/single-file.py
calls `protect_index` first, as Trunk's post_build hook. A <meta> policy
cannot say `frame-ancestors` (browsers ignore it there), which is as
wanted: the page is meant to be framed by slides on any host.

Standard library only.
"""

import base64
import hashlib
import re


class Problem(Exception):
    """The policy cannot be written; the message says why."""


# One directive per line, joined with "; ". 'self' is the origin the page
# is served from (the whole host, not only the page's folder: on a shared
# host, other pages' scripts there could be loaded too); a page opened
# from disk (brownout.html) has no origin worth trusting and names its
# inline code by hash instead.
SERVED = [
    "default-src 'none'",
    "script-src 'self' {scripts} 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
]
SINGLE_FILE = [
    "default-src 'none'",
    "script-src {scripts} 'wasm-unsafe-eval'",
    "style-src {styles}",
    "img-src data: blob:",
    "media-src blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
]

META = re.compile(r'[ \t]*<meta http-equiv="Content-Security-Policy" content="[^"]*">\n?')
CHARSET = re.compile(r'<meta charset="utf-8">\n?', re.I)
INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
INLINE_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S | re.I)


def source(text):
    """The CSP source that allows exactly this inline script or style."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


# The script `trunk serve` adds to reload the page when its sources
# change. Its address is filled in as the page is served, so no hash can
# name it: the policy refuses it, and scripts/serve.sh turns it off.
TRUNK_RELOAD = ".well-known/trunk/ws"


def inline_scripts(html):
    """The text of every script element without a src attribute, but for
    `trunk serve`'s reload script."""
    return [
        body
        for attrs, body in INLINE_SCRIPT.findall(html)
        if "src=" not in attrs and TRUNK_RELOAD not in body
    ]


def with_policy(html, directives):
    """`html` with its policy replaced by (or given) `directives`. The
    <meta> goes right after the charset, before anything it governs."""
    html = META.sub("", html)
    if "style=" in re.sub(INLINE_SCRIPT, "", html):
        raise Problem("the page has a style attribute, which the policy refuses")
    scripts = " ".join(sorted({source(s) for s in inline_scripts(html)}))
    styles = " ".join(sorted({source(s) for s in INLINE_STYLE.findall(html)})) or "'none'"
    policy = "; ".join(d.format(scripts=scripts, styles=styles) for d in directives)
    policy = re.sub(r"  +", " ", policy)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
    charset = CHARSET.search(html)
    if not charset:
        raise Problem('index.html has no <meta charset="utf-8"> to put the policy after')
    return html[: charset.end()] + "  " + meta + html[charset.end():]


def protect_index(html):
    """index.html as served: Trunk's loader is its only inline script."""
    scripts = inline_scripts(META.sub("", html))
    if len(scripts) != 1:
        raise Problem(f"expected Trunk's loader as the one inline script, found {len(scripts)}")
    if INLINE_STYLE.search(html):
        raise Problem("index.html has an inline <style>; link a stylesheet instead")
    return with_policy(html, SERVED)


def protect_single_file(html):
    """brownout.html: every script and stylesheet is inline, named by hash."""
    return with_policy(html, SINGLE_FILE)
