"""Evidence formats, one module each, behind one registry (:mod:`.registry`).

Each format module says its name, how an input in it is recognised, how it is split into the
records that are sealed and indexed, and how such a record becomes an event; JSON is read by one
set of rules (:mod:`.jsontext`) and times by one parser (:mod:`.times`) for sealing and
importing alike. docs/case.md ("Accepted formats") lists every format with an example.
"""
