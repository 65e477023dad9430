//! Mail authentication: is an e-mail really from the domain its `From`
//! names? The backend passes the answer to the engine as
//! `Context.authenticated` (SPEC 3.3 rule 5, SPEC 5 "Mail authentication").
//!
//! Two sources of evidence, each switched on per inbox
//! ([`AuthSettings`]):
//! - our own check of the raw bytes: DKIM signatures (RFC 6376) and the
//!   DMARC policy (RFC 7489) of the `From` domain, with the `mail-auth`
//!   crate; DNS through the system resolver, or through fixed TXT records
//!   given in the settings ([`Dns::fixed`], for tests and offline
//!   installations);
//! - `Authentication-Results` headers (RFC 8601) written by the company's
//!   own MTA, recognised by its authserv-id. Every other such header is
//!   ignored: anyone can write one into a message.
//!
//! The verdict ([`verdict`]): any evidence of failure gives `Some(false)`;
//! otherwise any pass gives `Some(true)`; otherwise no verdict (`None`), or
//! `Some(false)` when the inbox requires authentication. A DNS failure is
//! no verdict, never an error.
//!
//! Architecture Invariant: the judgement reads the message and DNS only;
//! it decides nothing about the diary. The engine does, given the verdict.

use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::dmarc::{Dmarc, Policy};
use mail_auth::hickory_resolver::config::ResolverConfig;
use mail_auth::hickory_resolver::config::ResolverOpts;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, MessageAuthenticator, Parameters, RecordSet, ResolverCache,
    SpfOutput, SpfResult, Txt,
};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

/// The most `Authentication-Results` headers of one message looked at.
pub const MAX_RESULTS_HEADERS: usize = 50;

/// The longest wait for the DNS answers of one message.
pub const DNS_TIMEOUT: Duration = Duration::from_secs(20);

/// How an inbox judges its messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthSettings {
    /// Check DKIM signatures and the `From` domain's DMARC policy here.
    pub verify_dkim: bool,
    /// The authserv-ids (RFC 8601) of our own MTA, whose
    /// `Authentication-Results` headers are believed (lower case).
    pub trusted_authserv_ids: Vec<String>,
    /// A message without any verdict counts as not authenticated.
    pub require_authentication: bool,
}

impl AuthSettings {
    /// Whether anything is checked at all.
    pub fn is_active(&self) -> bool {
        self.verify_dkim || !self.trusted_authserv_ids.is_empty() || self.require_authentication
    }
}

/// One piece of evidence and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// The message is from its `From` domain.
    Pass,
    /// The message is not (a DMARC fail, a broken aligned signature).
    Fail,
    /// Nothing either way (no signature, no policy, DNS failure).
    Unknown,
}

/// The verdict from the evidence (SPEC 5): a failure anywhere wins, then a
/// pass, then "no verdict" (`None`), which `require` turns into `false`.
pub fn verdict(findings: &[Finding], require: bool) -> Option<bool> {
    if findings.contains(&Finding::Fail) {
        Some(false)
    } else if findings.contains(&Finding::Pass) {
        Some(true)
    } else if require {
        Some(false)
    } else {
        None
    }
}

/// What was found about one message: the verdict and a short account of it
/// for the administrator (domains and results, nothing secret).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// `Context.authenticated`.
    pub authenticated: Option<bool>,
    /// How the verdict was reached, e.g. `dkim=pass (crm.example, aligned)`.
    pub detail: String,
}

impl Judgement {
    /// No check was made.
    pub fn unchecked() -> Judgement {
        Judgement { authenticated: None, detail: String::new() }
    }
}

/// Whether the DKIM domain `d` is aligned with the `From` domain `from`
/// (relaxed alignment, RFC 7489 3.1.1): the same domain, or the same
/// organizational domain by the Public Suffix List (`mail.crm.example` and
/// `crm.example`; never two sites under one public suffix such as
/// `github.io` or `co.uk`).
pub fn aligned(d: &str, from: &str) -> bool {
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    let from = from.trim().trim_end_matches('.').to_ascii_lowercase();
    if d.is_empty() || from.is_empty() {
        return false;
    }
    if d == from {
        return true;
    }
    // Relaxed alignment (RFC 7489 3.1.1): the same organizational domain,
    // by the Public Suffix List the engine's trust rule uses.
    let org = invitelink::itip::trust::registrable_domain;
    matches!((org(&d), org(&from)), (Some(a), Some(b)) if a == b)
}

/// The domain of the single `From` address of the e-mail `raw`, lower
/// case; none when there is no `From`, a `From` without an address, or
/// several with different domains. The addresses are the engine's reading
/// ([`invitelink::message::from_addresses`]), so the domain judged here is
/// always the domain of the `From` the engine decides with: two readings
/// of one header could be made to disagree by an attacker.
pub fn from_domain(raw: &[u8]) -> Option<String> {
    let mut domain: Option<String> = None;
    for list in invitelink::message::from_addresses(raw) {
        if list.is_empty() {
            return None;
        }
        for a in list {
            let d = a.rsplit_once('@').map(|(_, d)| d.trim().to_ascii_lowercase())?;
            match &domain {
                Some(known) if *known != d => return None,
                _ => domain = Some(d),
            }
        }
    }
    domain.filter(|d| !d.is_empty())
}

/// One result of an `Authentication-Results` header: `method=result` and
/// its properties (`header.d`, `header.from`, ...), lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultInfo {
    /// `dkim`, `dmarc`, `spf`, ...
    pub method: String,
    /// `pass`, `fail`, `none`, ...
    pub result: String,
    /// `(ptype.property, value)`.
    pub properties: Vec<(String, String)>,
}

impl ResultInfo {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// An `Authentication-Results` header (RFC 8601 2.2): the authserv-id and
/// the results; `None` when it cannot be read.
pub fn parse_authentication_results(value: &str) -> Option<(String, Vec<ResultInfo>)> {
    let text = without_comments(value);
    let mut parts = split_outside_quotes(&text, ';').into_iter();
    let head = parts.next()?;
    let authserv_id = head.split_whitespace().next()?.trim_matches('"').to_ascii_lowercase();
    if authserv_id.is_empty() {
        return None;
    }
    let mut results = Vec::new();
    for part in parts {
        let pairs = pairs_of(&part);
        let mut pairs = pairs.into_iter();
        let Some((method, result)) = pairs.next() else { continue };
        let method = method.split('/').next().unwrap_or_default().trim().to_ascii_lowercase();
        if method.is_empty() || method == "none" {
            continue;
        }
        let properties = pairs
            .filter(|(k, _)| k.contains('.'))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_owned()))
            .collect();
        results.push(ResultInfo { method, result: result.to_ascii_lowercase(), properties });
    }
    Some((authserv_id, results))
}

/// The text without RFC 5322 comments (nested parentheses), quotes kept.
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth = depth.saturating_add(1),
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn split_outside_quotes(text: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == sep && !quoted {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

/// `name = value` pairs, with optional space around `=`.
fn pairs_of(text: &str) -> Vec<(String, String)> {
    // Glue `a = b` into `a=b`, then split on white space outside quotes.
    let mut glued = String::with_capacity(text.len());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && c.is_whitespace() {
            while chars.peek().is_some_and(|n| n.is_whitespace()) {
                chars.next();
            }
            if glued.ends_with('=') || glued.ends_with('/') || chars.peek().is_some_and(|n| *n == '=' || *n == '/') {
                continue;
            }
            glued.push(' ');
            continue;
        }
        glued.push(c);
    }
    let mut out = Vec::new();
    let mut token = String::new();
    quoted = false;
    for c in glued.chars().chain(std::iter::once(' ')) {
        if c == '"' {
            quoted = !quoted;
        }
        if c == ' ' && !quoted {
            if let Some((k, v)) = token.split_once('=') {
                out.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            token.clear();
        } else {
            token.push(c);
        }
    }
    out
}

/// What the trusted `Authentication-Results` headers of a message say about
/// its `From` domain.
pub fn trusted_results(
    headers: &[mailparse::MailHeader<'_>],
    trusted: &[String],
    from: Option<&str>,
) -> Vec<(Finding, String)> {
    let mut out = Vec::new();
    if trusted.is_empty() {
        return out;
    }
    let results = headers
        .iter()
        .filter(|h| h.get_key_ref().eq_ignore_ascii_case("Authentication-Results"))
        .take(MAX_RESULTS_HEADERS);
    for header in results {
        let Some((id, infos)) = parse_authentication_results(&header.get_value()) else { continue };
        if !trusted.iter().any(|t| t.eq_ignore_ascii_case(&id)) {
            continue;
        }
        for info in infos {
            let finding = judge_result(&info, from);
            if finding != Finding::Unknown {
                let about = info.property("header.d").or(info.property("header.from")).unwrap_or("");
                out.push((finding, format!("{id}: {}={} {about}", info.method, info.result).trim_end().to_owned()));
            }
        }
    }
    out
}

fn judge_result(info: &ResultInfo, from: Option<&str>) -> Finding {
    let Some(from) = from else { return Finding::Unknown };
    match info.method.as_str() {
        "dmarc" => {
            // `header.from` names the domain the result is about.
            if info.property("header.from").is_some_and(|d| !d.trim().eq_ignore_ascii_case(from)) {
                return Finding::Unknown;
            }
            match info.result.as_str() {
                "pass" => Finding::Pass,
                "fail" => Finding::Fail,
                _ => Finding::Unknown,
            }
        }
        "dkim" => {
            let d = info
                .property("header.d")
                .map(str::to_owned)
                .or_else(|| info.property("header.i").and_then(|i| i.rsplit_once('@').map(|(_, d)| d.to_owned())));
            if !d.is_some_and(|d| aligned(&d, from)) {
                return Finding::Unknown;
            }
            match info.result.as_str() {
                "pass" => Finding::Pass,
                "fail" => Finding::Fail,
                _ => Finding::Unknown,
            }
        }
        _ => Finding::Unknown,
    }
}

/// How DNS is asked for DKIM keys and DMARC policies.
#[derive(Clone)]
pub struct Dns {
    resolver: Option<MessageAuthenticator>,
    fixed: Option<Arc<FixedTxt>>,
    why_none: Option<String>,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns")
            .field("system", &self.fixed.is_none())
            .field("fixed_records", &self.fixed.as_ref().map(|t| t.records.len()))
            .finish()
    }
}

impl Dns {
    /// The system's resolver (`/etc/resolv.conf`). When it cannot be set
    /// up, every DKIM and DMARC check gives no verdict.
    pub fn system() -> Dns {
        match MessageAuthenticator::new_system_conf() {
            Ok(r) => Dns { resolver: Some(r), fixed: None, why_none: None },
            Err(e) => Dns { resolver: None, fixed: None, why_none: Some(format!("no dns resolver: {e}")) },
        }
    }

    /// Only the given TXT records (name, text), no query ever sent: for
    /// tests and offline installations. A name not given does not exist.
    pub fn fixed(records: &[(String, String)]) -> Dns {
        let mut map = HashMap::new();
        for (name, text) in records {
            let key = fqdn_key(name);
            let bytes = text.as_bytes();
            let record: Txt = if key.starts_with("_dmarc.") {
                <Dmarc as mail_auth::common::parse::TxtRecordParser>::parse(bytes).into()
            } else {
                <DomainKey as mail_auth::common::parse::TxtRecordParser>::parse(bytes).into()
            };
            map.insert(key.into_boxed_str(), record);
        }
        // No name servers: a name outside the table is answered from the
        // table as missing, and nothing is sent.
        let resolver = MessageAuthenticator::new(ResolverConfig::from_parts(None, Vec::new(), Vec::new()), {
            let mut o = ResolverOpts::default();
            o.attempts = 0;
            o
        })
        .ok();
        Dns { resolver, fixed: Some(Arc::new(FixedTxt { records: map })), why_none: None }
    }
}

fn fqdn_key(name: &str) -> String {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    format!("{n}.")
}

/// Fixed TXT records, answered as a resolver cache that knows every name.
struct FixedTxt {
    records: HashMap<Box<str>, Txt>,
}

impl ResolverCache<Box<str>, Txt> for FixedTxt {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        Some(match self.records.get(name) {
            Some(record) => record.clone(),
            None => Txt::Error(mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(
                mail_auth::hickory_resolver::proto::op::ResponseCode::NXDomain,
            ))),
        })
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
}

/// Every A lookup of the fixed DNS: the name exists.
struct FixedA;

impl ResolverCache<Box<str>, RecordSet<Ipv4Addr>> for FixedA {
    fn get<Q>(&self, _: &Q) -> Option<RecordSet<Ipv4Addr>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        Some(RecordSet {
            rrset: Arc::from(vec![Ipv4Addr::LOCALHOST].into_boxed_slice()),
            dnssec_status: Default::default(),
        })
    }

    fn remove<Q>(&self, _: &Q) -> Option<RecordSet<Ipv4Addr>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: RecordSet<Ipv4Addr>, _: std::time::Instant) {}
}

/// Judges the messages of one inbox (or of the HTTP inbox endpoint).
#[derive(Debug, Clone)]
pub struct Authenticator {
    settings: AuthSettings,
    dns: Option<Dns>,
}

impl Authenticator {
    /// An authenticator with `settings`, asking `dns` when DKIM is checked.
    pub fn new(settings: AuthSettings, dns: Option<Dns>) -> Authenticator {
        let dns = if settings.verify_dkim { Some(dns.unwrap_or_else(Dns::system)) } else { None };
        Authenticator { settings, dns }
    }

    /// Checks nothing: every message has no verdict.
    pub fn off() -> Authenticator {
        Authenticator { settings: AuthSettings::default(), dns: None }
    }

    /// The settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Judges the raw e-mail `raw`.
    pub async fn judge(&self, raw: &[u8]) -> Judgement {
        if !self.settings.is_active() {
            return Judgement::unchecked();
        }
        let headers = match mailparse::parse_headers(raw) {
            Ok((h, _)) => h,
            Err(_) => Vec::new(),
        };
        let from = from_domain(raw);
        let mut findings: Vec<(Finding, String)> =
            trusted_results(&headers, &self.settings.trusted_authserv_ids, from.as_deref());
        if let (Some(dns), Some(from)) = (&self.dns, &from) {
            let own = match tokio::time::timeout(DNS_TIMEOUT, own_check(dns, raw, from)).await {
                Ok(found) => found,
                Err(_) => (Finding::Unknown, format!("no answer from dns within {} s", DNS_TIMEOUT.as_secs())),
            };
            findings.push(own);
        }
        let list: Vec<Finding> = findings.iter().map(|(f, _)| *f).collect();
        let authenticated = verdict(&list, self.settings.require_authentication);
        let mut detail: Vec<String> = findings.into_iter().map(|(_, d)| d).filter(|d| !d.is_empty()).collect();
        if from.is_none() {
            detail.push("no single `From` domain".to_owned());
        }
        if authenticated == Some(false) && !list.contains(&Finding::Fail) {
            detail.push("authentication is required".to_owned());
        }
        Judgement { authenticated, detail: detail.join("; ") }
    }
}

/// DKIM and DMARC checked here for the `From` domain `from`.
async fn own_check(dns: &Dns, raw: &[u8], from: &str) -> (Finding, String) {
    let Some(resolver) = &dns.resolver else {
        return (Finding::Unknown, dns.why_none.clone().unwrap_or_else(|| "no dns resolver".to_owned()));
    };
    let Some(message) = AuthenticatedMessage::parse(raw) else {
        return (Finding::Unknown, "the headers cannot be read for dkim".to_owned());
    };
    let spf = SpfOutput::new(from.to_owned()).with_result(SpfResult::None);
    let (dkim, dmarc) = match &dns.fixed {
        Some(fixed) => {
            let dkim = resolver.verify_dkim(Parameters::new(&message).with_txt_cache(fixed.as_ref())).await;
            let dmarc = resolver
                .verify_dmarc(
                    Parameters::new(DmarcParameters::new(&message, &dkim, from, &spf))
                        .with_txt_cache(fixed.as_ref())
                        .with_ipv4_cache(&FixedA),
                )
                .await;
            (summarise_dkim(&dkim, from), dmarc)
        }
        None => {
            let dkim = resolver.verify_dkim(&message).await;
            let dmarc = resolver.verify_dmarc(DmarcParameters::new(&message, &dkim, from, &spf)).await;
            (summarise_dkim(&dkim, from), dmarc)
        }
    };
    let (aligned_pass, aligned_fail, temp) = dkim;
    // SPF cannot be checked here (the connecting address is the MTA's
    // business), so DMARC rests on DKIM alone: a pass is a pass, and a
    // failure counts only where the domain asks for enforcement.
    let enforced = matches!(dmarc.policy(), Policy::Reject | Policy::Quarantine);
    let dmarc = dmarc.result();
    if dmarc == DmarcResult::Pass {
        return (Finding::Pass, format!("dmarc=pass ({from})"));
    }
    if let Some(d) = aligned_pass {
        return (Finding::Pass, format!("dkim=pass ({d}, aligned with {from})"));
    }
    if let Some(d) = aligned_fail {
        return (Finding::Fail, format!("dkim=fail ({d}, aligned with {from})"));
    }
    match dmarc {
        DmarcResult::Fail(_) if enforced => {
            return (Finding::Fail, format!("dmarc=fail ({from}, no aligned dkim pass)"));
        }
        DmarcResult::TempError(_) | DmarcResult::PermError(_) => {
            return (Finding::Unknown, format!("dmarc=temperror ({from})"));
        }
        _ => {}
    }
    if temp {
        return (Finding::Unknown, format!("dkim=temperror ({from})"));
    }
    (Finding::Unknown, format!("no aligned dkim signature, no enforced dmarc policy ({from})"))
}

/// The first aligned passing signature's domain, the first aligned failing
/// one's, and whether a lookup failed.
fn summarise_dkim(outputs: &[mail_auth::DkimOutput<'_>], from: &str) -> (Option<String>, Option<String>, bool) {
    let mut pass = None;
    let mut fail = None;
    let mut temp = false;
    for o in outputs {
        let Some(d) = o.signature().map(|s| s.d.to_ascii_lowercase()) else { continue };
        if !aligned(&d, from) {
            continue;
        }
        match o.result() {
            DkimResult::Pass => {
                pass.get_or_insert(d);
            }
            // A signature that does not verify, or whose body changed
            // after signing.
            DkimResult::Fail(_)
            | DkimResult::Neutral(mail_auth::Error::Dkim(mail_auth::dkim::DkimError::FailedBodyHashMatch)) => {
                fail.get_or_insert(d);
            }
            DkimResult::TempError(_) => temp = true,
            _ => {}
        }
    }
    (pass, fail, temp)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_verdict_for_each_case() {
        use Finding::*;
        // (findings, require, expected)
        let cases: [(&[Finding], bool, Option<bool>); 10] = [
            (&[], false, None),
            (&[], true, Some(false)),
            (&[Unknown], false, None),
            (&[Unknown], true, Some(false)),
            (&[Pass], false, Some(true)),
            (&[Pass], true, Some(true)),
            (&[Fail], false, Some(false)),
            (&[Pass, Fail], false, Some(false)),
            (&[Fail, Pass], true, Some(false)),
            (&[Unknown, Pass], false, Some(true)),
        ];
        for (findings, require, expected) in cases {
            assert_eq!(verdict(findings, require), expected, "{findings:?} require={require}");
        }
    }

    #[test]
    fn alignment_is_relaxed_but_not_to_a_bare_top_level_domain() {
        assert!(aligned("crm.example", "crm.example"));
        assert!(aligned("CRM.example.", "crm.example"));
        assert!(aligned("crm.example", "mail.crm.example"));
        assert!(aligned("mail.crm.example", "crm.example"));
        assert!(!aligned("example", "crm.example"));
        assert!(!aligned("evil.example", "crm.example"));
        assert!(!aligned("notcrm.example", "crm.example"));
        assert!(!aligned("", "crm.example"));
        assert!(aligned("mail.acme.co.uk", "acme.co.uk"));
        assert!(!aligned("evil.co.uk", "acme.co.uk"));
        assert!(!aligned("co.uk", "acme.co.uk"));
        assert!(!aligned("alice.github.io", "bob.github.io"));
    }

    fn headers(text: &str) -> Vec<mailparse::MailHeader<'_>> {
        mailparse::parse_headers(text.as_bytes()).unwrap().0
    }

    #[test]
    fn authentication_results_are_read_with_comments_and_versions() {
        let (id, results) = parse_authentication_results(
            "mx.crm.example 1; (our MTA) dkim = pass (good sig) header.d=customer.example header.s=\"s;1\";\r\n \
             dmarc=fail (p=reject) header.from=customer.example; spf/1=none smtp.mailfrom=x@y.example",
        )
        .unwrap();
        assert_eq!(id, "mx.crm.example");
        assert_eq!(results.len(), 3, "{results:?}");
        assert_eq!((results[0].method.as_str(), results[0].result.as_str()), ("dkim", "pass"));
        assert_eq!(results[0].property("header.d"), Some("customer.example"));
        assert_eq!(results[0].property("header.s"), Some("s;1"));
        assert_eq!((results[1].method.as_str(), results[1].result.as_str()), ("dmarc", "fail"));
        assert_eq!((results[2].method.as_str(), results[2].result.as_str()), ("spf", "none"));
        let (id, results) = parse_authentication_results("mx.crm.example; none").unwrap();
        assert_eq!((id.as_str(), results.len()), ("mx.crm.example", 0));
        assert!(parse_authentication_results("").is_none());
    }

    #[test]
    fn only_trusted_authserv_ids_count() {
        let trusted = vec!["mx.crm.example".to_owned()];
        let text = "Authentication-Results: evil.example; dmarc=pass header.from=customer.example\r\n\
                    Authentication-Results: mx.crm.example; dmarc=fail header.from=customer.example\r\n\
                    From: <bob@customer.example>\r\n\r\n";
        let h = headers(text);
        let from = from_domain(text.as_bytes());
        assert_eq!(from.as_deref(), Some("customer.example"));
        let found = trusted_results(&h, &trusted, from.as_deref());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, Finding::Fail);
        // The untrusted pass alone says nothing.
        let h = headers(
            "Authentication-Results: evil.example; dmarc=pass header.from=customer.example\r\nFrom: bob@customer.example\r\n\r\n",
        );
        assert!(trusted_results(&h, &trusted, Some("customer.example")).is_empty());
        // A trusted pass about another domain says nothing about this one.
        let h = headers("Authentication-Results: mx.crm.example; dmarc=pass header.from=evil.example\r\n\r\n");
        assert!(trusted_results(&h, &trusted, Some("customer.example")).is_empty());
        // An aligned DKIM pass counts; an unaligned one does not.
        let h = headers(
            "Authentication-Results: MX.crm.example; dkim=pass header.d=mail.customer.example; dkim=pass header.d=evil.example\r\n\r\n",
        );
        let found = trusted_results(&h, &trusted, Some("customer.example"));
        assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), [Finding::Pass]);
    }

    #[test]
    fn several_from_domains_give_no_from_domain() {
        assert_eq!(from_domain(b"From: a@x.example, b@y.example\r\n\r\n"), None);
        assert_eq!(from_domain(b"From: a@x.example, b@X.example\r\n\r\n").as_deref(), Some("x.example"));
        assert_eq!(from_domain(b"Subject: hi\r\n\r\n"), None);
        assert_eq!(from_domain(b"From: a@x.example\r\nFrom: b@y.example\r\n\r\n"), None);
        assert_eq!(from_domain(b"From: undisclosed\r\nFrom: b@y.example\r\n\r\n"), None);
    }

    /// The attacker's headers: whatever the `From` line hides in display
    /// names, comments, encoded words or groups, the domain judged for
    /// authentication is the domain of the address the engine decides with
    /// (or none, when the field names several domains).
    #[test]
    fn the_judged_from_is_the_engine_s_from() {
        let lines = [
            "From: \"bob@customer.example\" <eve@evil.example>",
            "From: (bob@customer.example) eve@evil.example",
            "From: =?utf-8?Q?bob=40customer.example_=3C?= <eve@evil.example>",
            "From: \"Bob <bob@customer.example>\" <eve@evil.example>",
            "From: customer: bob@customer.example;, eve@evil.example",
            "From: <eve@evil.example> (bob@customer.example)",
            "From: eve@evil.example\r\n (<bob@customer.example>)",
            "From: <@customer.example:eve@evil.example>",
            "From: Bob <eve@evil.example>\r\nSender: bob@customer.example",
        ];
        for line in lines {
            let raw = format!(
                "{line}\r\nSubject: x\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
            );
            let engine = invitelink::message::read_message(raw.as_bytes(), &Default::default()).unwrap();
            let engine_domain = engine.from.as_deref().and_then(|a| a.rsplit_once('@')).map(|(_, d)| d.to_owned());
            let judged = from_domain(raw.as_bytes());
            // Judged: the engine's domain, or none at all (then nothing is
            // authenticated), never a third reading.
            assert!(judged.is_none() || judged == engine_domain, "{line}: judged {judged:?}, engine {engine_domain:?}");
            assert_ne!(judged.as_deref(), Some("customer.example"), "{line}");
        }
    }

    #[tokio::test]
    async fn settings_decide_what_is_checked() {
        let raw = b"Authentication-Results: mx.crm.example; dmarc=pass header.from=customer.example\r\n\
                    From: <bob@customer.example>\r\n\r\nhi\r\n";
        assert_eq!(Authenticator::off().judge(raw).await, Judgement::unchecked());
        let trusting = AuthSettings { trusted_authserv_ids: vec!["mx.crm.example".to_owned()], ..Default::default() };
        assert_eq!(Authenticator::new(trusting, None).judge(raw).await.authenticated, Some(true));
        let other = AuthSettings { trusted_authserv_ids: vec!["mx.other.example".to_owned()], ..Default::default() };
        assert_eq!(Authenticator::new(other.clone(), None).judge(raw).await.authenticated, None);
        let required = AuthSettings { require_authentication: true, ..other };
        let j = Authenticator::new(required, None).judge(raw).await;
        assert_eq!(j.authenticated, Some(false));
        assert!(j.detail.contains("required"), "{}", j.detail);
    }
}

#[cfg(test)]
mod dkim_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use mail_auth::common::crypto::Ed25519Key;
    use mail_auth::common::headers::HeaderWriter;
    use mail_auth::dkim::DkimSigner;
    use mail_auth::dkim::generate::DkimKeyPair;

    const MESSAGE: &str = "From: Bob <bob@customer.example>\r\nTo: ann@crm.example\r\nSubject: Visit\r\n\
                           Message-ID: <1@customer.example>\r\n\r\nSee you on Tuesday.\r\n";

    fn signed(domain: &str, key: &DkimKeyPair) -> String {
        let signature = DkimSigner::from_key(Ed25519Key::from_pkcs8_der(key.private_key()).unwrap())
            .domain(domain)
            .selector("s1")
            .headers(["From", "To", "Subject", "Message-ID"])
            .sign(MESSAGE.as_bytes())
            .unwrap();
        format!("{}{MESSAGE}", signature.to_header())
    }

    fn dns(key: &DkimKeyPair, dmarc: bool) -> Dns {
        let mut records = vec![(
            "s1._domainkey.customer.example".to_owned(),
            format!("v=DKIM1; k=ed25519; p={}", invitelink::base64::encode(key.public_key())),
        )];
        if dmarc {
            records.push(("_dmarc.customer.example".to_owned(), "v=DMARC1; p=reject".to_owned()));
        }
        Dns::fixed(&records)
    }

    async fn judge(raw: &str, dns: Dns) -> Judgement {
        let settings = AuthSettings { verify_dkim: true, ..Default::default() };
        Authenticator::new(settings, Some(dns)).judge(raw.as_bytes()).await
    }

    #[tokio::test]
    async fn dkim_and_dmarc_against_fixed_records() {
        let key = DkimKeyPair::generate_ed25519().unwrap();
        let good = signed("customer.example", &key);
        let j = judge(&good, dns(&key, true)).await;
        assert_eq!(j.authenticated, Some(true), "{}", j.detail);
        assert!(j.detail.contains("dmarc=pass"), "{}", j.detail);
        // Without a DMARC policy, the aligned signature alone passes.
        let j = judge(&good, dns(&key, false)).await;
        assert_eq!(j.authenticated, Some(true), "{}", j.detail);
        assert!(j.detail.contains("dkim=pass"), "{}", j.detail);
        // Tampered after signing.
        let tampered = good.replace("Tuesday", "Friday");
        let j = judge(&tampered, dns(&key, true)).await;
        assert_eq!(j.authenticated, Some(false), "{}", j.detail);
        let j = judge(&tampered, dns(&key, false)).await;
        assert_eq!(j.authenticated, Some(false), "{}", j.detail);
        // Signed by another domain: not aligned, and DMARC fails.
        let mut other = signed("evil.example", &key);
        other = other.replace("s1._domainkey.customer.example", "x");
        let mut records = vec![(
            "s1._domainkey.evil.example".to_owned(),
            format!("v=DKIM1; k=ed25519; p={}", invitelink::base64::encode(key.public_key())),
        )];
        records.push(("_dmarc.customer.example".to_owned(), "v=DMARC1; p=reject".to_owned()));
        let j = judge(&other, Dns::fixed(&records)).await;
        assert_eq!(j.authenticated, Some(false), "{}", j.detail);
        // No signature under an enforced policy: fails; under p=none: no verdict.
        let j = judge(MESSAGE, dns(&key, true)).await;
        assert_eq!(j.authenticated, Some(false), "{}", j.detail);
        let relaxed = [("_dmarc.customer.example".to_owned(), "v=DMARC1; p=none".to_owned())];
        let j = judge(MESSAGE, Dns::fixed(&relaxed)).await;
        assert_eq!(j.authenticated, None, "{}", j.detail);
        // No signature, no policy: no verdict.
        let j = judge(MESSAGE, Dns::fixed(&[])).await;
        assert_eq!(j.authenticated, None, "{}", j.detail);
        // The key is not published (the lookup fails): no pass.
        let j = judge(&good, Dns::fixed(&[])).await;
        assert_ne!(j.authenticated, Some(true), "{}", j.detail);
    }
}
