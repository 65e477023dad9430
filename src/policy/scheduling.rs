//! The iTIP and recurrence operations the policy uses, in the policy's
//! terms: [`crate::itip`] applies messages and writes replies,
//! [`crate::expand`] lists occurrences.

use super::decision::OccurrenceTime;
use crate::error::Result;
use crate::ical::{Component, OwnedComponent};
use crate::itip::{self, PartStat, ProcessOutcome};
use crate::outcome::Ignored;
use chrono::NaiveDateTime;

/// What iTIP processing does to the stored copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// The new stored object.
    Stored(OwnedComponent),
    /// The object is to be deleted.
    Deleted,
    /// The message changes nothing, and why.
    Ignored(Ignored),
}

/// Applies `message` to `existing` (RFC 5546 3.2) as [`itip::process`] does.
pub fn process(
    message: &Component<'_>,
    existing: Option<&Component<'_>>,
    author: Option<&itip::trust::Author<'_>>,
) -> Result<Processed> {
    Ok(match itip::process_as(message, existing, author)? {
        ProcessOutcome::Stored(c) => Processed::Stored(c),
        ProcessOutcome::Deleted => Processed::Deleted,
        ProcessOutcome::Ignored(code) => Processed::Ignored(code),
    })
}

/// The user's `REPLY` to `invitation` (RFC 5546 3.2.3).
pub fn reply(invitation: &Component<'_>, attendee: &str, partstat: &str, now: NaiveDateTime) -> Result<OwnedComponent> {
    itip::reply(invitation, attendee, PartStat::parse(partstat), now)
}

/// Whether `new` differs significantly from `old` (RFC 5546 2.1.4).
pub fn is_significant_change(old: &Component<'_>, new: &Component<'_>) -> bool {
    itip::is_significant_change(old, new)
}

/// Every occurrence of the series in `calendar` over the default window
/// (SPEC 3.4: from the first `DTSTART`, 730 days), and whether the list was
/// cut at the expansion limit.
pub fn occurrences(calendar: &Component<'_>) -> Result<(Vec<OccurrenceTime>, bool)> {
    let expansion = crate::expand::expand(calendar, &crate::expand::ExpandOptions::default())?;
    let list = expansion
        .occurrences
        .into_iter()
        .map(|o| OccurrenceTime {
            recurrence_id: o.recurrence_id.unwrap_or_else(|| o.start.clone()),
            start: o.start,
            end: o.end,
            all_day: o.all_day,
            status: o.status,
        })
        .collect();
    Ok((list, expansion.limited))
}
