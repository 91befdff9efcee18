"""The core of AuditLens: everything a script or the CLI can do. Never imports Qt."""
