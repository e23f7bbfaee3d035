#!/usr/bin/env python3
"""Rewrites src/official_files.rs: one include_str! per JSON file under lexicons/, in path order.

Run after adding, removing or updating files under lexicons/ (tests/official.rs fails until then).
"""
import os
import pathlib

crate = pathlib.Path(__file__).resolve().parent.parent
files = sorted(
    p.relative_to(crate / "lexicons").as_posix()
    for p in (crate / "lexicons").rglob("*.json")
)
lines = [
    "//! The official lexicons, compiled in (feature `official`): every file under this crate's",
    "//! `lexicons/` folder. This list is checked against the folder by a test",
    "//! (`tests/official.rs`); after adding or removing a file there, update it with",
    "//! `python3 scripts/list-official.py`.",
    "",
    "/// `(path under lexicons/, JSON text)` of every official lexicon, in path order.",
    "pub(crate) static FILES: &[(&str, &str)] = &[",
]
lines += [f'    ("{f}", include_str!("../lexicons/{f}")),' for f in files]
lines.append("];")
(crate / "src" / "official_files.rs").write_text("\n".join(lines) + "\n")
print(f"{len(files)} lexicons listed in src/official_files.rs")
