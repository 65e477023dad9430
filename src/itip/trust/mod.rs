//! Who may speak for whom (SPEC 3.3 rule 5): the one rule that decides
//! whether the author of an e-mail speaks for the organizer or an attendee a
//! scheduling message names.
//!
//! The author is the e-mail's `From`. The `Sender:` header never vouches for
//! anyone, and neither does anything else the message itself writes, unless
//! something outside the message backs it:
//! - the author *is* the calendar user (same address);
//! - the stored copy already names the author as that user's `SENT-BY` (a
//!   delegation the CRM recorded from an earlier, trusted message);
//! - the message names the author as `SENT-BY`, the backend found the e-mail
//!   authenticated (DKIM/DMARC for the `From` domain), and the author's
//!   address is in the user's own organization: the same registrable domain
//!   (by the Public Suffix List), not a public mailbox provider;
//! - for a new invitation only (nothing stored to protect), an author in
//!   the organizer's own organization (the `SENT-BY` the invitation names,
//!   or a colleague's booking system), unless the e-mail is known to be
//!   unauthenticated.
//!
//! In every other case a `SENT-BY` vouches for nobody, whatever the message
//! says. Both the policy ([`crate::policy`]) and iTIP processing
//! ([`super::process`]) ask [`vouch`]; nothing else decides it.
//!
//! Architecture Invariant: trust comes from outside the message (the e-mail's
//! authenticated author, the stored copy); nothing an attacker writes in the
//! calendar or the headers makes a stranger speak for someone.

mod list;

use crate::ical::value::email_of;
use crate::ical::{Component, Property};
use list::List;
use std::sync::OnceLock;

/// The e-mail a message came in, as far as trust is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Author<'a> {
    /// The e-mail's `From` address; `None` when the message came without one
    /// (a bare calendar file, or an e-mail with no `From`).
    pub from: Option<&'a str>,
    /// The backend's verdict on the e-mail: authenticated, not, or unknown.
    pub authenticated: Option<bool>,
}

/// What the stored copy says about the calendar user a message speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded<'a> {
    /// Nothing is stored under the `UID`: the message is a new invitation.
    NothingStored,
    /// The stored copy's `SENT-BY` for that user (`None`: it names none, or
    /// does not name the user at all).
    SentBy(Option<&'a str>),
}

/// A calendar user (organizer or attendee) a message speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal<'a> {
    /// The user's calendar address (`mailto:` or bare).
    pub address: &'a str,
    /// The `SENT-BY` the message writes on the user's line.
    pub claimed_sent_by: Option<&'a str>,
    /// What the stored copy records.
    pub recorded: Recorded<'a>,
}

/// Why the author speaks for a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voucher {
    /// The author is the principal.
    Itself,
    /// The stored copy names the author as the principal's `SENT-BY`.
    RecordedSentBy,
    /// An authenticated e-mail from the principal's own organization, named
    /// as `SENT-BY` by the message.
    AuthenticatedColleague,
    /// A new invitation whose author is in the organizer's own organization.
    ColleagueOnInvitation,
}

/// Whether the e-mail's author speaks for `principal`, and why; `None` when
/// nothing vouches (the author is a stranger to that calendar user).
pub fn vouch(author: &Author<'_>, principal: &Principal<'_>) -> Option<Voucher> {
    let from = email_of(author.from?);
    if from.is_empty() {
        return None;
    }
    let address = email_of(principal.address);
    if from == address {
        return Some(Voucher::Itself);
    }
    let is_author = |a: Option<&str>| a.map(email_of).is_some_and(|a| a == from);
    match principal.recorded {
        Recorded::SentBy(recorded) if is_author(recorded) => return Some(Voucher::RecordedSentBy),
        _ => {}
    }
    if !same_organization(&from, &address) {
        return None;
    }
    match (principal.recorded, author.authenticated) {
        // A new invitation from the organizer's own organization (its
        // SENT-BY, or a colleague's booking system): nothing stored is at
        // stake, only a tentative appointment.
        (Recorded::NothingStored, Some(true) | None) => Some(Voucher::ColleagueOnInvitation),
        // A change to a stored meeting: the message must name the author as
        // SENT-BY, and the e-mail must be authenticated.
        (Recorded::SentBy(_), Some(true)) if is_author(principal.claimed_sent_by) => {
            Some(Voucher::AuthenticatedColleague)
        }
        _ => None,
    }
}

/// Whether the author delegated this new invitation to `delegate` (any
/// delegate when `None`), as the message's own lines say on both ends
/// (RFC 5546 3.2.2.3): the author's `ATTENDEE` line is `DELEGATED-TO` the
/// delegate and the delegate's line is `DELEGATED-FROM` the author. The
/// delegator speaks for nobody else, and for nothing stored: this holds for
/// a new invitation only, and never for an e-mail known to be
/// unauthenticated.
pub fn delegated_by_author(author: &Author<'_>, message: &Component<'_>, delegate: Option<&str>) -> bool {
    let Some(from) = author.from.map(email_of).filter(|f| !f.is_empty()) else { return false };
    if author.authenticated == Some(false) {
        return false;
    }
    let listed = |p: &Property<'_>, name: &str, who: &str| {
        p.params
            .iter()
            .filter(|x| x.name.eq_ignore_ascii_case(name))
            .flat_map(|x| x.values.iter())
            .any(|v| email_of(v) == who)
    };
    message.components.iter().filter(|c| c.is("VEVENT")).any(|ev| {
        let lines: Vec<&Property<'_>> = ev.props("ATTENDEE").collect();
        lines.iter().any(|d| {
            let d_email = email_of(&d.value);
            d_email != from
                && delegate.is_none_or(|want| email_of(want) == d_email)
                && listed(d, "DELEGATED-FROM", &from)
                && lines.iter().any(|a| email_of(&a.value) == from && listed(a, "DELEGATED-TO", &d_email))
        })
    })
}

/// Whether two e-mail addresses belong to one organization: the same
/// registrable domain (Public Suffix List), compared case-insensitively, and
/// that domain not a public mailbox provider (two gmail.com users are not
/// colleagues).
pub fn same_organization(a: &str, b: &str) -> bool {
    let (Some(da), Some(db)) = (domain_of(a), domain_of(b)) else { return false };
    let (Some(ra), Some(rb)) = (registrable_domain(&da), registrable_domain(&db)) else { return false };
    ra == rb && !is_public_mail_domain(&da) && !is_public_mail_domain(&db)
}

/// The domain of an e-mail address, lower-case, without a final dot.
fn domain_of(address: &str) -> Option<String> {
    let email = email_of(address);
    let (_, domain) = email.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.');
    (!domain.is_empty()).then(|| domain.to_owned())
}

/// Whether `domain` (or its registrable domain) is a public mailbox provider.
pub fn is_public_mail_domain(domain: &str) -> bool {
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    let list = providers();
    list.contains(&domain) || registrable_domain(&domain).is_some_and(|r| list.contains(&r))
}

/// The registrable domain of `host` by the Public Suffix List (RFC-less but
/// standard algorithm, publicsuffix.org/list/): the public suffix and one
/// more label; `None` when `host` is itself a public suffix or malformed.
pub fn registrable_domain(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_lowercase();
    if host.is_empty() {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    let n = labels.len();
    let rules = suffix_rules();
    let tail = |from: usize| labels.get(from..).map(|l| l.join(".")).unwrap_or_default();
    // An exception rule (`!www.ck`) prevails over everything: the public
    // suffix is the rule without its first label.
    let exception = (0..n).find(|&i| rules.contains(format!("!{}", tail(i)).as_str()));
    let suffix_len = match exception {
        Some(i) => n - i - 1,
        None => {
            // The longest matching rule, plain or wildcard; the implicit rule `*`.
            let mut longest = 1;
            for i in 0..n {
                let plain = rules.contains(tail(i).as_str());
                let wildcard = i + 1 < n && rules.contains(format!("*.{}", tail(i + 1)).as_str());
                if plain || wildcard {
                    longest = longest.max(n - i);
                }
            }
            longest
        }
    };
    if n <= suffix_len {
        return None;
    }
    Some(tail(n - suffix_len - 1))
}

/// The rules of the Public Suffix List (generated: `cargo xtask gen-trust-data`;
/// the compact form of `public_suffixes.txt`).
fn suffix_rules() -> &'static List {
    static RULES: OnceLock<List> = OnceLock::new();
    RULES.get_or_init(|| List::new(include_bytes!("public_suffixes.bin")))
}

/// Public mailbox providers (generated: `cargo xtask gen-trust-data`; the
/// compact form of `public_mail_domains.txt`).
fn providers() -> &'static List {
    static PROVIDERS: OnceLock<List> = OnceLock::new();
    PROVIDERS.get_or_init(|| List::new(include_bytes!("public_mail_domains.bin")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        let cases = [
            ("customer.example", Some("customer.example")),
            ("mail.customer.example", Some("customer.example")),
            ("Acme.CO.UK", Some("acme.co.uk")),
            ("a.b.acme.co.uk", Some("acme.co.uk")),
            ("co.uk", None),
            ("com", None),
            // Wildcard and exception rules (`*.ck`, `!www.ck`).
            ("x.y.ck", Some("x.y.ck")),
            ("www.ck", Some("www.ck")),
            // The private section: two sites under github.io are not one.
            ("alice.github.io", Some("alice.github.io")),
            ("", None),
            ("a..b", None),
        ];
        for (host, want) in cases {
            assert_eq!(registrable_domain(host).as_deref(), want, "{host}");
        }
    }

    /// The entries of a generated text list.
    fn text_entries(text: &'static str) -> Vec<&'static str> {
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
    }

    #[test]
    fn the_compact_lists_hold_exactly_the_text_lists() {
        for (list, text) in [
            (suffix_rules(), include_str!("public_suffixes.txt")),
            (providers(), include_str!("public_mail_domains.txt")),
        ] {
            let entries = text_entries(text);
            assert!(entries.len() > 10_000);
            let set: std::collections::HashSet<&str> = entries.iter().copied().collect();
            for entry in &entries {
                assert!(list.contains(entry), "{entry}");
                // Near misses are not in the list unless the text has them.
                for other in
                    [format!("x{entry}"), format!("{entry}x"), format!("a.{entry}"), entry.chars().skip(1).collect()]
                {
                    assert_eq!(list.contains(&other), set.contains(other.as_str()), "{other}");
                }
            }
            for absent in ["", ".", "zzzz", "!", "*", "customer.example"] {
                assert_eq!(list.contains(absent), set.contains(absent), "{absent}");
            }
        }
    }

    #[test]
    fn colleagues_share_a_non_public_registrable_domain() {
        assert!(same_organization("amy@customer.example", "mailto:Bob@Mail.Customer.Example"));
        assert!(!same_organization("eve@evil.example", "bob@customer.example"));
        assert!(!same_organization("eve@gmail.com", "bob@gmail.com"));
        assert!(!same_organization("eve@outlook.com", "bob@outlook.com"));
        assert!(!same_organization("eve@alice.github.io", "bob@bob.github.io"));
        assert!(!same_organization("no-domain", "bob@customer.example"));
        assert!(is_public_mail_domain("GMAIL.com"));
        assert!(!is_public_mail_domain("customer.example"));
    }

    const BOB: &str = "mailto:bob@customer.example";

    fn principal<'a>(claimed: Option<&'a str>, recorded: Recorded<'a>) -> Principal<'a> {
        Principal { address: BOB, claimed_sent_by: claimed, recorded }
    }

    #[test]
    fn the_author_speaks_for_itself_only() {
        let from = |f| Author { from: Some(f), authenticated: None };
        let p = principal(None, Recorded::SentBy(None));
        assert_eq!(vouch(&from("BOB@customer.example"), &p), Some(Voucher::Itself));
        assert_eq!(vouch(&from("eve@evil.example"), &p), None);
        assert_eq!(vouch(&Author::default(), &p), None);
    }

    #[test]
    fn a_written_sent_by_vouches_only_with_backing() {
        let amy = "mailto:amy@customer.example";
        let eve = "mailto:eve@evil.example";
        let author = |f, auth| Author { from: Some(f), authenticated: auth };
        let stored = Recorded::SentBy(None);
        // A stranger naming herself SENT-BY: never, even authenticated.
        for auth in [None, Some(true), Some(false)] {
            assert_eq!(vouch(&author("eve@evil.example", auth), &principal(Some(eve), stored)), None);
            assert_eq!(vouch(&author("eve@evil.example", auth), &principal(Some(eve), Recorded::NothingStored)), None);
        }
        // A colleague changing a stored meeting: only authenticated.
        assert_eq!(vouch(&author("amy@customer.example", None), &principal(Some(amy), stored)), None);
        assert_eq!(vouch(&author("amy@customer.example", Some(false)), &principal(Some(amy), stored)), None);
        assert_eq!(
            vouch(&author("amy@customer.example", Some(true)), &principal(Some(amy), stored)),
            Some(Voucher::AuthenticatedColleague)
        );
        // A colleague on a new invitation: unless known unauthenticated.
        let new = Recorded::NothingStored;
        for claimed in [Some(amy), None] {
            assert_eq!(
                vouch(&author("amy@customer.example", None), &principal(claimed, new)),
                Some(Voucher::ColleagueOnInvitation)
            );
            assert_eq!(vouch(&author("amy@customer.example", Some(false)), &principal(claimed, new)), None);
        }
        // ... but a colleague who is not named SENT-BY changes nothing stored.
        assert_eq!(vouch(&author("amy@customer.example", Some(true)), &principal(None, stored)), None);
        // The stored copy's SENT-BY: whoever it names, the message need not repeat it.
        let recorded = Recorded::SentBy(Some("mailto:assistant@agency.example"));
        assert_eq!(
            vouch(&author("assistant@agency.example", None), &principal(None, recorded)),
            Some(Voucher::RecordedSentBy)
        );
        // Public providers are no organization.
        let gmail_bob =
            Principal { address: "bob@gmail.com", claimed_sent_by: Some("eve@gmail.com"), recorded: stored };
        assert_eq!(vouch(&author("eve@gmail.com", Some(true)), &gmail_bob), None);
    }
}
