//! Recurrence rules (RFC 5545 3.3.10, 3.8.5).
