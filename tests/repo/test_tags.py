"""Each language's tags query finds its definitions and references."""

from __future__ import annotations

import pytest

from kimicode.repo.languages import language_for
from kimicode.repo.tags import extract_tags

CASES = {
    "app.py": (
        "import os\nfrom util import helper\n\nLIMIT = 3\n\n"
        "class Fetcher(Base):\n    def fetch(self, url):\n        return helper(url).strip()\n\n"
        "def main():\n    Fetcher().fetch('x')\n",
        {"LIMIT", "Fetcher", "fetch", "main"},
        {"helper", "Base", "strip", "Fetcher", "fetch"},
    ),
    "app.js": (
        "import { parse } from './p.js';\n"
        "export function render(node) { return parse(node); }\n"
        "class Widget extends Base { draw() { render(this); } }\n"
        "const makeWidget = () => new Widget();\n",
        {"render", "Widget", "draw", "makeWidget"},
        {"parse", "render", "Widget", "Base"},
    ),
    "types.ts": (
        "export interface Shape { area(): number }\n"
        "export type Id = string;\n"
        "enum Color { Red }\n"
        "export class Square implements Shape { area(): number { return side(2); } }\n"
        "function side(n: number): number { return n }\n",
        {"Shape", "Id", "Color", "Square", "area", "side"},
        {"Shape", "side"},
    ),
    "view.tsx": (
        "type Props = { title: string };\n"
        "export function Header(props: Props) { return <Title text={props.title} />; }\n",
        {"Props", "Header"},
        {"Props", "Title"},
    ),
    "page.html": (
        '<html><body><div id="main" class="card wide"><p>hi</p></div></body></html>\n',
        {"main"},
        {"card", "wide"},
    ),
    "style.css": (
        ":root { --accent: red; }\n.card { color: var(--accent); }\n#main { margin: 0 }\n"
        "@keyframes spin { from { opacity: 0 } }\n",
        {"--accent", "card", "main", "spin"},
        {"--accent"},
    ),
    "main.go": (
        "package main\n\nconst Max = 3\n\ntype Server struct{}\n\n"
        "func (s *Server) Serve() error { return run() }\n\nfunc run() error { return nil }\n",
        {"Max", "Server", "Serve", "run"},
        {"run", "Server"},
    ),
    "lib.rs": (
        "pub struct Config { n: u32 }\npub trait Load { fn load(&self) -> Config; }\n"
        'pub fn parse(s: &str) -> Config { helper(s); println!("x"); Config { n: 1 } }\n'
        "mod inner {}\n",
        {"Config", "Load", "load", "parse", "inner"},
        {"Config", "helper", "println"},
    ),
    "Main.java": (
        "public class Main { interface Shape {} enum Kind { A }\n"
        "  void run() { Helper h = new Helper(); h.go(); } }\n",
        {"Main", "Shape", "Kind", "run"},
        {"Helper", "go"},
    ),
    "util.c": (
        "#define MAX 4\ntypedef struct point { int x; } point_t;\n"
        "int area(point_t *p);\nint area(point_t *p) { return square(p->x); }\n",
        {"MAX", "point", "point_t", "area"},
        {"square", "point_t"},
    ),
    "shape.cpp": (
        "namespace geo {\nclass Circle { public: double area(); };\n"
        "double Circle::area() { return compute(r); }\n}\n",
        {"geo", "Circle", "area"},
        {"compute"},
    ),
}


@pytest.mark.parametrize("path", sorted(CASES))
def test_language_definitions_and_references(path: str) -> None:
    source, defs, refs = CASES[path]
    language = language_for(path)
    assert language is not None
    tags = extract_tags(language, source.encode())
    assert tags is not None
    found_defs = {d.name for d in tags.definitions}
    assert defs <= found_defs, f"missing definitions {defs - found_defs}"
    assert refs <= set(tags.references), f"missing references {refs - set(tags.references)}"


def test_definition_lines_carry_the_source_line() -> None:
    tags = extract_tags("python", b"class A:\n    def go(self, speed):\n        pass\n")
    assert tags is not None
    assert [(d.name, d.line, d.text) for d in tags.definitions] == [
        ("A", 1, "class A:"),
        ("go", 2, "    def go(self, speed):"),
    ]


def test_binary_and_garbage_give_nothing() -> None:
    assert extract_tags("python", b"\x89PNG\r\n\x1a\n\0\0\0IHDR") is None
    assert extract_tags("python", b")))(((:::: ]]] def def def ((((\n" * 20) is None


def test_unknown_extensions_have_no_language() -> None:
    assert language_for("README.md") is None
    assert language_for("Makefile") is None
    assert language_for("src/a.TSX") == "tsx"
