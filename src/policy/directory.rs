//! The CRM lookups of a decision: addresses matched to registered contacts
//! (persons at companies) and to associates (CRM users).
//!
//! Addresses are compared case-insensitively, whole (no alias guessing: an
//! alias must be registered, as in the CRM this mirrors).

use super::context::{Associate, Contact};
use super::decision::{Attendee, Party};
use crate::ical::value::email_cow;
use crate::itip::CalAddress as Address;
use std::borrow::Cow;

/// How an address matches the registered contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactMatch<'x> {
    /// No contact has the address.
    None,
    /// Exactly one contact has it.
    One(&'x Contact),
    /// Several contacts share it: none is picked.
    Several(usize),
}

/// The contacts and associates of the context, each with its address
/// normalized once (a decision looks up every attendee).
#[derive(Debug, Clone)]
pub struct Directory<'x> {
    contacts: Vec<(Cow<'x, str>, &'x Contact)>,
    associates: Vec<(Cow<'x, str>, &'x Associate)>,
}

impl<'x> Directory<'x> {
    /// The lookups over the context's lists.
    pub fn new(contacts: &'x [Contact], associates: &'x [Associate]) -> Directory<'x> {
        Directory {
            contacts: contacts.iter().map(|c| (email_cow(&c.email), c)).collect(),
            associates: associates.iter().map(|a| (email_cow(&a.email), a)).collect(),
        }
    }

    /// The contacts registered with `addr` (normalized).
    pub fn contact(&self, addr: &str) -> ContactMatch<'x> {
        if addr.is_empty() {
            return ContactMatch::None;
        }
        let mut found = self.contacts.iter().filter(|(email, _)| email == addr).map(|&(_, c)| c);
        match (found.next(), found.count()) {
            (None, _) => ContactMatch::None,
            (Some(c), 0) => ContactMatch::One(c),
            (Some(_), more) => ContactMatch::Several(more + 1),
        }
    }

    /// The associate with `addr` (normalized); the first when listed twice.
    pub fn associate(&self, addr: &str) -> Option<&'x Associate> {
        if addr.is_empty() {
            return None;
        }
        self.associates.iter().find(|(email, _)| email == addr).map(|&(_, a)| a)
    }

    /// A party for `addr` with the name the message gives.
    pub fn party(&self, addr: &str, name: Option<&str>) -> Party {
        let mut party = Party {
            email: addr.to_owned(),
            name: name.map(str::to_owned),
            person_id: None,
            person_name: None,
            company: None,
            associate_id: None,
            associate_name: None,
        };
        if let ContactMatch::One(c) = self.contact(addr) {
            party.person_id = c.person_id.clone();
            party.person_name = c.name.clone();
            party.company = c.company.clone();
        }
        if let Some(a) = self.associate(addr) {
            party.associate_id = a.associate_id.clone();
            party.associate_name = a.name.clone();
        }
        party
    }

    /// A party for a calendar address; the `EMAIL` parameter is tried when
    /// the value itself matches nothing.
    pub fn party_of(&self, addr: &Address) -> Party {
        let by_value = self.party(&addr.email, addr.name.as_deref());
        match &addr.alt_email {
            Some(alt) if by_value.person_id.is_none() && by_value.associate_id.is_none() => {
                let by_alt = self.party(alt, addr.name.as_deref());
                if by_alt.person_id.is_some() || by_alt.associate_id.is_some() { by_alt } else { by_value }
            }
            _ => by_value,
        }
    }

    /// An attendee line matched to the CRM.
    pub fn attendee(&self, addr: &Address, mailbox: &str) -> Attendee {
        Attendee {
            party: self.party_of(addr),
            partstat: addr.partstat.clone(),
            role: addr.role.clone(),
            is_user: addr.is(mailbox),
        }
    }
}
