"""The web for the agent: fetch_url and web_search, and the line between them and the user.

- `policy`: which URLs may be reached (schemes, `[web] allow`/`deny`, no private
  addresses after DNS unless allowed) and the checked addresses to connect to.
- `fetch`: one GET, redirects followed and re-checked hop by hop, size and time capped,
  nothing of the user's sent (no key, cookies, proxies or `.netrc`).
- `readable`: a body as text: the article of an HTML page as Markdown, a PDF's text,
  decoded plain text and JSON.
- `search`: which search provider a session has (Kimi's built-in, SearXNG, Brave) and
  their answers.
- `untrusted`: how web text is fenced in the model's context.
"""
