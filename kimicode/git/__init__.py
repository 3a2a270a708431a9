"""Git as kimicode runs it: one hardened runner (`run`) and one object reader (`catfile`).

Nothing else in kimicode starts `git`; see `run` for what hardening means.
"""
