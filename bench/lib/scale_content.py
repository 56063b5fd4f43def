#!/usr/bin/env python3
"""Writes a content directory N times the size of a given one (the demo, exported with
`candor export`): every section and policy file is copied N-1 more times under new slugs, with
its controls' slugs made unique too. Usage: scale_content.py SRC DEST N"""
import pathlib, re, shutil, sys

src, dest, times = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
if dest.exists():
    shutil.rmtree(dest)
shutil.copytree(src, dest)
for folder in ("sections", "policies"):
    for f in sorted((src / folder).glob("*.md")):
        text = f.read_text()
        for n in range(2, times + 1):
            copy = re.sub(r"\{#([a-z0-9-]+)", lambda m: "{#%s-%d" % (m.group(1), n), text)
            copy = re.sub(r'^title = "(.*)"$', lambda m: 'title = "%s %d"' % (m.group(1), n), copy, count=1, flags=re.M)
            (dest / folder / ("%s-%d.md" % (f.stem, n))).write_text(copy)
