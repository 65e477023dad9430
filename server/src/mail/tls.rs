//! The TLS client configuration shared by IMAP: the web PKI roots plus the
//! certificate authorities of an optional PEM file, TLS 1.2 or later.

use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// The most certificates read from one CA file.
const MAX_CA_CERTIFICATES: usize = 1000;

/// Reads the certificates of a PEM file (at most [`MAX_CA_CERTIFICATES`]).
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut out = Vec::new();
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("the CA file `{}` cannot be read: {e}", path.display()))?;
    for cert in iter.take(MAX_CA_CERTIFICATES) {
        out.push(cert.map_err(|e| format!("the CA file `{}` is not PEM: {e}", path.display()))?);
    }
    if out.is_empty() {
        return Err(format!("the CA file `{}` holds no certificate", path.display()));
    }
    Ok(out)
}

/// A client configuration trusting the web PKI and `ca_file`.
pub(crate) fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|e| format!("a certificate of `{}` cannot be used: {e}", path.display()))?;
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS cannot be set up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
