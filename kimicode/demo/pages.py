"""The pages the demo's scripted sub-agents write: the bundled model's "answers"."""

from __future__ import annotations

NAV = (
    ("index.html", "Home"),
    ("menu.html", "Menu"),
    ("about.html", "About"),
    (
        "visit.html",
        "Visit",
    ),
    ("order.html", "Order"),
)


def page(title: str, body: str) -> str:
    links = "\n".join(f'      <a href="{href}">{label}</a>' for href, label in NAV)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · Lumen Bakery</title>
  <link rel="stylesheet" href="css/site.css">
</head>
<body>
  <header>
    <strong class="logo">Lumen Bakery</strong>
    <nav>
{links}
    </nav>
  </header>
  <main>
{body}
  </main>
  <footer>© Lumen Bakery · 12 Harbour Street</footer>
</body>
</html>
"""


CSS = """:root { --ink: #7a3e1d; --paper: #fff8ef; --crust: #e9c79a; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.6 Georgia, serif; color: var(--ink); background: var(--paper); }
header { display: flex; justify-content: space-between; align-items: center;
         padding: 14px max(20px, calc(50% - 430px)); background: var(--ink); color: var(--paper); }
header a { color: var(--paper); margin-left: 18px; text-decoration: none; }
.logo { font-size: 1.3em; letter-spacing: .03em; }
main { max-width: 860px; margin: 0 auto; padding: 24px 20px 48px; }
.hero { padding: 56px 24px; text-align: center; background: var(--crust); border-radius: 10px; }
.hero h1 { font-size: 2.4em; margin: 0 0 8px; }
.grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 16px; margin-top: 24px; }
.card { background: #fff; border: 1px solid var(--crust); border-radius: 8px; padding: 16px; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid var(--crust); padding: 6px 8px; text-align: left; }
form label { display: block; margin: 12px 0 4px; }
input, select, button { font: inherit; padding: 6px 10px; }
button { background: var(--ink); color: var(--paper); border: 0; border-radius: 6px;
         margin-top: 14px; }
.map { height: 220px; background: repeating-linear-gradient(45deg, #f3e3cc, #f3e3cc 10px,
       #fff8ef 10px, #fff8ef 20px); border-radius: 8px; display: grid; place-items: center; }
footer { text-align: center; padding: 18px; border-top: 1px solid var(--crust); }
"""

BODIES = {
    "index.html": (
        "Home",
        """    <section class="hero">
      <h1>Bread worth waking up for</h1>
      <p>Sourdough, pastries and coffee, baked before sunrise on Harbour Street.</p>
    </section>
    <section class="grid">
      <div class="card"><h3>Slow sourdough</h3><p>48-hour ferment, stone-baked.</p></div>
      <div class="card"><h3>Morning pastries</h3><p>Laminated by hand every night.</p></div>
      <div class="card"><h3>Local flour</h3><p>Milled twenty miles up the coast.</p></div>
    </section>""",
    ),
    "menu.html": (
        "Menu",
        """    <h1>Menu</h1>
    <table>
      <tr><th>Breads</th><th></th></tr>
      <tr><td>Harbour sourdough</td><td>£4.50</td></tr>
      <tr><td>Seeded rye</td><td>£4.20</td></tr>
      <tr><th>Pastries</th><th></th></tr>
      <tr><td>Butter croissant</td><td>£2.40</td></tr>
      <tr><td>Cardamom bun</td><td>£2.80</td></tr>
      <tr><th>Drinks</th><th></th></tr>
      <tr><td>Flat white</td><td>£3.10</td></tr>
    </table>""",
    ),
    "about.html": (
        "About",
        """    <h1>Our story</h1>
    <p>Lumen opened in 2019 in a former net loft, with one oven and a long night shift.</p>
    <div class="grid">
      <div class="card"><h3>Mara</h3><p>Head baker; keeps the starter alive since 2011.</p></div>
      <div class="card"><h3>Teo</h3><p>Pastry; believes in butter and patience.</p></div>
    </div>""",
    ),
    "visit.html": (
        "Visit",
        """    <h1>Visit us</h1>
    <p>12 Harbour Street — two minutes from the ferry.</p>
    <table>
      <tr><th>Day</th><th>Hours</th></tr>
      <tr><td>Tuesday – Friday</td><td>7:00 – 15:00</td></tr>
      <tr><td>Saturday – Sunday</td><td>8:00 – 14:00</td></tr>
      <tr><td>Monday</td><td>Closed</td></tr>
    </table>
    <div class="map">Map</div>""",
    ),
    "order.html": (
        "Order",
        """    <h1>Pre-order</h1>
    <form onsubmit="event.preventDefault(); this.querySelector('p').hidden = false;">
      <label for="name">Name</label><input id="name" required>
      <label for="item">Item</label>
      <select id="item"><option>Harbour sourdough</option><option>Cardamom bun</option></select>
      <label for="day">Pick-up day</label><input id="day" type="date">
      <button type="submit">Reserve</button>
      <p hidden>Thanks — see you at the counter.</p>
    </form>""",
    ),
}


def files() -> dict[str, str]:
    """Every file the swarm writes, by path."""
    out = {path: page(title, body) for path, (title, body) in BODIES.items()}
    out["css/site.css"] = CSS
    return out
