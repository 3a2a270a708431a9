"""`kimicode demo` needs no key and no network, and leaves a built, merged site."""

from __future__ import annotations

from pathlib import Path

from helpers import git


def test_demo_builds_the_site_with_a_real_swarm(tmp_path: Path, kimicode) -> None:
    dest = tmp_path / "site"
    res = kimicode("demo", "--keep", str(dest), cwd=tmp_path, key=False)
    assert res.code == 0, res
    for name in ("index.html", "menu.html", "about.html", "visit.html", "order.html"):
        html = (dest / name).read_text()
        assert "css/site.css" in html and "© Lumen Bakery" in html
    assert "Bread worth waking up for" in (dest / "index.html").read_text()
    assert "#7a3e1d" in (dest / "css" / "site.css").read_text()
    assert "6/6 merged" in res.stderr and "speedup" in res.stderr
    assert str(dest) in res.stderr
    assert git(dest, "branch", "--list", "kimicode/*") == ""
    again = kimicode("demo", "--keep", str(dest), cwd=tmp_path, key=False)
    assert again.code == 2 and "not empty" in again.stderr
