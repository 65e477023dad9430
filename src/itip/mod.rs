//! iTIP processing (RFC 5546).
