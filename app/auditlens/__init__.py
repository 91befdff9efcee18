"""AuditLens: offline verification and investigation of sealed OpenTelemetry audit evidence."""

__version__ = "0.1.0"
