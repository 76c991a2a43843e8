#!/usr/bin/env python3
"""Finishes the bundle: the page's Content-Security-Policy, and
brownout.html, the whole page in one file that works from disk.

Trunk runs this as a post_build hook (Trunk.toml) with TRUNK_STAGING_DIR set
to the folder it is assembling; the folder may also be given as the only
argument. It writes the policy into the index.html Trunk wrote there
(scripts/csp.py says what the policy allows and why), and adds
brownout.html beside it, which has a policy of its own and in which

- each stylesheet is inlined as a <style> element,
- the icon becomes a data: URL,
- the wasm-bindgen JS glue is inlined as a module script, without its export
  line, and
- the wasm module is gzipped and base64-encoded into that script, which
  unpacks it with DecompressionStream("gzip") and hands the bytes to the
  glue's init function.

A page opened from file:// may not import modules or fetch files, so the
file must not refer to anything else: any other local reference in the head
is an error, not a silent omission. Nothing else in the folder is touched;
run again on the same folder, the script writes the same bytes.

Standard library only: python3 is on every machine that builds the page.
"""

import base64
import gzip
import os
import re
import sys
import textwrap

import csp

OUTPUT = "brownout.html"

# What the page says until the app starts (the app removes #loading when it
# does). The bundle's own text is about file:// pages, which this one is for.
LOADING = "Loading Brownout…"


class Problem(Exception):
    """Something the single file cannot be made from; the message says what."""


def read(folder, name, mode="r"):
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise Problem(f"{path} is missing: the single file needs it")
    if mode == "rb":
        with open(path, "rb") as f:
            return f.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def local_name(url):
    """The file that a URL of the bundle names: Trunk writes them as its
    public URL (TRUNK_PUBLIC_URL, "./" in this project's Trunk.toml)
    followed by the file's name, such as ./style-1a2b.css."""
    public = os.environ.get("TRUNK_PUBLIC_URL", "./")
    if public and url.startswith(public):
        url = "./" + url[len(public):].lstrip("/")
    if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("/"):
        raise Problem(f"{url!r} is outside the bundle ({public!r}); cannot inline it")
    name = url[2:] if url.startswith("./") else url
    return name.split("?")[0].split("#")[0]


def attribute(tag, name):
    match = re.search(r'\s%s\s*=\s*"([^"]*)"' % name, tag)
    return match.group(1) if match else None


def split_glue(glue):
    """The glue without its export line, and the names it exported, as
    {exported name: local name}."""
    exports = list(re.finditer(r"^export\s*\{([^}]*)\}\s*;?\s*$", glue, re.M))
    if len(exports) != 1:
        raise Problem(f"expected one export line in the JS glue, found {len(exports)}")
    # The glue must be a single module: another import or export would need
    # a file beside the page.
    rest = glue[: exports[0].start()] + glue[exports[0].end():]
    # The app's own exports (a `#[wasm_bindgen] pub fn`) are declared in
    # place: `export function name(`. They become plain declarations,
    # exported through the bindings object like the rest.
    declared = re.compile(r"^export\s+((?:async\s+)?function\*?|class|const|let)\s+(\w+)", re.M)
    inline_exports = [m.group(2) for m in declared.finditer(rest)]
    rest = declared.sub(lambda m: f"{m.group(1)} {m.group(2)}", rest)
    other = re.search(r"^\s*(import|export)\b.*$", rest, re.M)
    if other:
        raise Problem(f"the JS glue has another module statement: {other.group(0).strip()!r}")
    names = {name: name for name in inline_exports}
    for item in exports[0].group(1).split(","):
        parts = item.split()
        if len(parts) == 1:
            names[parts[0]] = parts[0]
        elif len(parts) == 3 and parts[1] == "as":
            names[parts[2]] = parts[0]
        elif parts:
            raise Problem(f"cannot read the export {item.strip()!r} of the JS glue")
    if "default" not in names:
        raise Problem("the JS glue exports no default init function")
    return rest, names


def script_safe(code, what):
    """Code made safe to sit between <script> and </script>."""
    if "<!--" in code:
        raise Problem(f"{what} contains '<!--', which would change how HTML reads the script")
    # "<\/script" means the same as "</script" inside a JS string, regular
    # expression or comment, and does not end the element.
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.I)


def loader(trunk_loader, folder):
    """The module script that replaces Trunk's loader and the glue file."""
    imported = re.search(
        r"^\s*import\s+(\w+)\s*,\s*\*\s*as\s+(\w+)\s+from\s+'([^']+)'\s*;?\s*$", trunk_loader, re.M
    )
    if not imported:
        raise Problem("cannot find the import of the JS glue in Trunk's loader script")
    init_name, bindings_name, glue_url = imported.groups()
    wasm_url = re.search(r"module_or_path\s*:\s*'([^']+)'", trunk_loader)
    if not wasm_url:
        raise Problem("cannot find the wasm module's URL in Trunk's loader script")

    glue, exports = split_glue(read(folder, local_name(glue_url)))
    wasm = read(folder, local_name(wasm_url.group(1)), "rb")
    if wasm[:4] != b"\0asm":
        raise Problem(f"{wasm_url.group(1)} is not a WebAssembly module")
    # mtime=0: the same wasm gives the same file, byte for byte.
    packed = base64.b64encode(gzip.compress(wasm, 9, mtime=0)).decode("ascii")

    # Trunk's own loader, with the module import replaced by the inlined
    # glue's names and the wasm URL by the unpacked bytes. It runs in a block
    # so that its names (it declares `wasm`, as does the glue) stay its own.
    body = trunk_loader[: imported.start()] + trunk_loader[imported.end():]
    body = body.replace(wasm_url.group(0), "module_or_path: await brownoutWasm()")
    bindings = ", ".join(f"{name}: {local}" for name, local in exports.items())
    return f"""<script type="module">
{script_safe(glue, "the JS glue")}
// The wasm module, gzipped and base64-encoded by scripts/single-file.py.
const BROWNOUT_WASM_GZ = "{packed}";
async function brownoutWasm() {{
    const text = atob(BROWNOUT_WASM_GZ);
    const gz = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) gz[i] = text.charCodeAt(i);
    const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
}}
try {{
    const {init_name} = {exports["default"]};
    const {bindings_name} = Object.freeze({{ {bindings} }});
{textwrap.indent(script_safe(body.strip(), "Trunk's loader"), "    ")}
}} catch (error) {{
    const loading = document.getElementById("loading");
    if (loading) loading.textContent = "Brownout could not start in this browser: " + error;
    throw error;
}}
</script>"""


def single_file(folder, html):
    """brownout.html made from the bundle in `folder` and its index.html."""

    # Trunk's loader: the one inline module script in the page.
    scripts = list(re.finditer(r'<script type="module">(.*?)</script>', html, re.S))
    if len(scripts) != 1:
        raise Problem(f"expected one module script in index.html, found {len(scripts)}")
    html = html[: scripts[0].start()] + loader(scripts[0].group(1), folder) + html[scripts[0].end():]

    def link(match):
        tag = match.group(0)
        rel = (attribute(tag, "rel") or "").lower()
        href = attribute(tag, "href")
        if rel in ("modulepreload", "preload"):
            # Both name files that are now inside this one.
            return ""
        if rel == "stylesheet" and href:
            css = read(folder, local_name(href))
            for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
                if not url.startswith("data:"):
                    raise Problem(f"{href} refers to {url}, which the single file would lack")
            return "<style>\n" + css.replace("</style", "<\\/style") + "</style>"
        if rel == "icon" and href:
            name = local_name(href)
            kinds = {".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
            kind = kinds.get(os.path.splitext(name)[1].lower())
            if not kind:
                raise Problem(f"the icon {href} is of a kind this script does not know")
            data = base64.b64encode(read(folder, name, "rb")).decode("ascii")
            return f'<link rel="icon" href="data:{kind};base64,{data}">'
        return tag

    html = re.sub(r"<link\b[^>]*>", link, html)

    # `trunk serve` adds a script that reloads the page over a WebSocket
    # when the sources change. Its address is filled in only as index.html
    # is served; in a file opened from disk it would keep trying to connect.
    def no_autoreload(match):
        return "" if ".well-known/trunk/ws" in match.group(0) else match.group(0)

    html = re.sub(r"<script>(?:(?!</script>).)*</script>\s*", no_autoreload, html, flags=re.S)

    # Whatever still points at a file of the bundle would be missing when
    # the page is opened from disk on its own.
    for tag in re.findall(r"<(?:link|script|img|source|iframe)\b[^>]*>", html):
        url = attribute(tag, "href") or attribute(tag, "src")
        if url and not url.startswith(("data:", "#")):
            raise Problem(f"index.html refers to {url} in {tag!r}; inline it in {sys.argv[0]}")

    html = re.sub(
        r'(<p id="loading">).*?(</p>)', lambda m: m.group(1) + LOADING + m.group(2), html, flags=re.S
    )
    return csp.protect_single_file(html)


def write(folder, name, text):
    """Writes beside the file and then renames: a failed write leaves no
    half file behind."""
    target = os.path.join(folder, name)
    with open(target + ".part", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(target + ".part", target)
    return target


def main():
    if len(sys.argv) > 2:
        sys.exit(f"usage: {sys.argv[0]} [staging folder]  (or set TRUNK_STAGING_DIR)")
    folder = sys.argv[1] if len(sys.argv) == 2 else os.environ.get("TRUNK_STAGING_DIR")
    if not folder:
        sys.exit(f"{sys.argv[0]}: name the bundle's folder, or set TRUNK_STAGING_DIR (Trunk does)")
    # Both files are made before either is written: a problem leaves the
    # folder as Trunk wrote it.
    try:
        index = read(folder, "index.html")
        protected = csp.protect_index(index)
        html = single_file(folder, protected)
    except (Problem, csp.Problem) as problem:
        sys.exit(f"{sys.argv[0]}: cannot write {OUTPUT}: {problem}")
    if protected != index:
        write(folder, "index.html", protected)
    target = write(folder, OUTPUT, html)
    print(f"{sys.argv[0]}: wrote {target} ({len(html.encode('utf-8')) / 1024:.0f} KiB)")

if __name__ == "__main__":
    main()
