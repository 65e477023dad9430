//! Inbound iTIP (RFC 5546 3.2): an incoming message applied to the stored
//! copy of the object with the same `UID`.
//!
//! [`process`] is a pure function: it returns the new stored object, or why
//! the message changes nothing ([`Ignored`]); the caller stores. Each method
//! has its own file (`request.rs`, `reply.rs`, `cancel.rs`, `add.rs`), its
//! function written as a list of early returns, one per rule; what several
//! of them share (versions, the index of instances, carrying local state and
//! time zones) stays here. Where sabre/vobject's broker is weaker than RFC 5546 we follow the
//! RFC; `docs/deviations.md` lists every such choice.
//!
//! Architecture Invariant: a message never changes an object it is not
//! entitled to: updates and cancellations only from the stored organizer,
//! replies only from an invited attendee speaking for itself (SPEC 3.3 rule 5).

use super::object::{
    CalAddress, SchedulingObject, compare_versions, dtend_of, dtstamp_of, dtstart_of, events, exdate_instants,
    has_rules, in_form_of, instant, is_override, recurrence_id_of, recurrence_key, recurrence_line, rules_of,
    sequence_of, vtimezone_id,
};
use super::significant::is_significant_change;
use super::trust::{Author, Principal, Recorded, delegated_by_author, vouch};
use super::vocab::{Method, PartStat, status_code};
use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::value::{DateTimeValue, email_of, parse_date_time_token, same_address};
use crate::ical::{Component, OwnedComponent, Param, Property};
use crate::outcome::Ignored;
use crate::tz::ZoneSet;
use chrono::{NaiveDateTime, TimeDelta};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

mod add;
mod cancel;
mod reply;
mod request;

use add::add;
use cancel::cancel;
pub use reply::answers_current_version;
use reply::reply;
use request::request;

/// What processing a message does to the stored copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessOutcome {
    /// The new stored object: a `VCALENDAR` without `METHOD`.
    Stored(OwnedComponent),
    /// The object is to be deleted. [`process`] never returns it today: a
    /// cancelled object is kept with `STATUS:CANCELLED` (see
    /// `docs/deviations.md`); the variant is part of the contract of
    /// `itip process` (`{"deleted": true}`).
    Deleted,
    /// The message changes nothing, and why.
    Ignored(Ignored),
}

/// Applies the iTIP `message` (a `VCALENDAR` with `METHOD`) to `existing`,
/// the stored copy with the same `UID` (or none). `sender` is the address the
/// message came from (the e-mail's `From`), when known; without it no sender
/// check is made (a bare file: the message speaks for itself). A sender
/// speaks for the organizer or an attendee as [`super::trust::vouch`] says;
/// [`process_as`] also takes the backend's verdict on the e-mail.
///
/// - `REQUEST`: a new object, or an update when (`SEQUENCE`, `DTSTAMP`) is not
///   older than the stored copy (RFC 5546 2.1.5). A request for instances
///   only (no master) updates or adds those overrides and keeps the rest.
/// - `REPLY`: sets the replying attendee's `PARTSTAT` (per instance with
///   `RECURRENCE-ID`), `SCHEDULE-STATUS` from `REQUEST-STATUS`.
/// - `CANCEL`: `STATUS:CANCELLED` on the object, or on one instance (an
///   override cancelled, else an `EXDATE` on the master).
/// - `ADD`: new instances added to the stored series.
/// - `REFRESH`, `COUNTER`, `DECLINECOUNTER`, `PUBLISH`, a `VTODO`, a message
///   without `METHOD`: [`Ignored::Unsupported`] (they never change the stored
///   object; the policy classifies them).
///
/// Errors: malformed or contradictory input (different `UID`s or organizers
/// between components, a stored copy with another `UID`, a `REPLY` naming
/// no attendee).
pub fn process(
    message: &Component<'_>,
    existing: Option<&Component<'_>>,
    sender: Option<&str>,
) -> Result<ProcessOutcome> {
    let author = sender.map(|from| Author { from: Some(from), authenticated: None });
    process_as(message, existing, author.as_ref())
}

/// [`process`] for a message whose e-mail is `author` (`None`: no e-mail,
/// no sender check). An author without a `From` speaks for nobody: the
/// message can only be a new invitation.
pub fn process_as(
    message: &Component<'_>,
    existing: Option<&Component<'_>>,
    author: Option<&Author<'_>>,
) -> Result<ProcessOutcome> {
    if events(message).is_empty() {
        let other = message.components.iter().any(|c| !c.is("VTIMEZONE"));
        if other {
            return Ok(ProcessOutcome::Ignored(Ignored::Unsupported));
        }
        return Err(EngineError::at(ErrorCode::NoEvent, message.line.max(1), "the message has no `VEVENT`"));
    }
    let msg = SchedulingObject::read(message)?;
    let existing = existing.filter(|e| !events(e).is_empty());
    let stored = existing.map(SchedulingObject::read).transpose()?;
    process_read(&msg, stored.as_ref(), author)
}

/// [`process_as`] for a message and a stored copy read already (the policy
/// reads them once for all its rules).
///
/// Errors: a stored copy with another `UID` (`invalid_context`); those of
/// the method's processing.
pub fn process_read(
    msg: &SchedulingObject<'_, '_>,
    stored: Option<&SchedulingObject<'_, '_>>,
    author: Option<&Author<'_>>,
) -> Result<ProcessOutcome> {
    let Some(method) = msg.method.clone() else {
        return Ok(ProcessOutcome::Ignored(Ignored::Unsupported));
    };
    if let Some(s) = stored.filter(|s| s.uid != msg.uid) {
        return Err(EngineError::new(
            ErrorCode::InvalidContext,
            format!("the stored object has uid `{}`, the message `{}`", s.uid, msg.uid),
        ));
    }
    let input = Inbound { message: msg.calendar, msg, stored: stored.map(|s| (s.calendar, s)), author };
    match method {
        Method::Request => request(&input),
        Method::Reply => reply(&input),
        Method::Cancel => cancel(&input),
        Method::Add => add(&input),
        Method::Refresh | Method::Counter | Method::DeclineCounter | Method::Publish | Method::Other(_) => {
            Ok(ProcessOutcome::Ignored(Ignored::Unsupported))
        }
    }
}

/// Everything one inbound message is decided on.
struct Inbound<'i, 'a, 'b> {
    message: &'i Component<'a>,
    msg: &'i SchedulingObject<'i, 'a>,
    stored: Option<(&'i Component<'b>, &'i SchedulingObject<'i, 'b>)>,
    author: Option<&'i Author<'i>>,
}

impl Inbound<'_, '_, '_> {
    /// Zones of the message, then those of the stored copy.
    fn zones(&self) -> ZoneSet {
        let mut zones = self.msg.zones.clone();
        if let Some((_, s)) = self.stored {
            zones.merge(s.zones.clone());
        }
        zones
    }

    /// Whether the organizer-side message comes from the organizer: the
    /// message names the stored organizer (if any), and the author (if
    /// given) speaks for that organizer ([`vouch`]).
    fn is_from_organizer(&self) -> bool {
        let stored_org = self.stored.and_then(|(_, s)| s.organizer.as_ref());
        let msg_org = self.msg.organizer.as_ref();
        if let Some(known) = stored_org {
            match msg_org {
                Some(o) if !o.email.is_empty() && o.email == known.email => {}
                // A changed or missing organizer is not the stored organizer.
                _ => return false,
            }
        }
        let Some(author) = self.author else { return true };
        let Some(org) = stored_org.or(msg_org) else { return false };
        let recorded = match self.stored {
            Some(_) => Recorded::SentBy(stored_org.and_then(|o| o.sent_by.as_deref())),
            None => Recorded::NothingStored,
        };
        let principal =
            Principal { address: &org.address, claimed_sent_by: msg_org.and_then(|o| o.sent_by.as_deref()), recorded };
        // A delegator forwarding a new invitation to a delegate (RFC 5546 3.2.2.3).
        let forwarded = self.stored.is_none() && delegated_by_author(author, self.message, None);
        vouch(author, &principal).is_some() || forwarded
    }
}

fn version_of(ev: &Component<'_>) -> Result<(Option<i64>, Option<NaiveDateTime>)> {
    Ok((sequence_of(ev)?, dtstamp_of(ev)))
}

/// The `VEVENT`s of a calendar by instance (`None`: the master), the first
/// of each instance winning, kept in step with the edits made to it: every
/// lookup is O(1), so a message with many instances costs linear time.
struct Index {
    /// The key of each component (`None` for a component that is not a `VEVENT`).
    keys: Vec<Option<Option<NaiveDateTime>>>,
    at: HashMap<Option<NaiveDateTime>, usize>,
}

impl Index {
    fn build(zones: &ZoneSet, cal: &Component<'_>) -> Result<Index> {
        let mut index = Index { keys: Vec::with_capacity(cal.components.len()), at: HashMap::new() };
        for c in &cal.components {
            let key = if c.is("VEVENT") { Some(recurrence_key(zones, c)?) } else { None };
            index.push(key);
        }
        Ok(index)
    }

    /// Position of the component of the instance `key`.
    fn find(&self, key: Option<NaiveDateTime>) -> Option<usize> {
        self.at.get(&key).copied()
    }

    /// Records a component appended to the calendar.
    fn push(&mut self, key: Option<Option<NaiveDateTime>>) {
        if let Some(k) = key {
            self.at.entry(k).or_insert(self.keys.len());
        }
        self.keys.push(key);
    }

    /// Removes the components for which `keep` is false.
    fn retain(&mut self, cal: &mut OwnedComponent, keep: impl Fn(Option<Option<NaiveDateTime>>) -> bool) {
        let mut flags = self.keys.iter().map(|k| keep(*k)).collect::<Vec<_>>().into_iter();
        cal.components.retain(|_| flags.next().unwrap_or(true));
        let keys: Vec<_> = self.keys.iter().copied().filter(|k| keep(*k)).collect();
        *self = Index { keys: Vec::with_capacity(keys.len()), at: HashMap::new() };
        for k in keys {
            self.push(k);
        }
    }
}

/// `X-` properties with this prefix belong to the organizer's copy (Exchange's
/// sequence, busy status, owner id): an update never keeps the stored ones.
const ORGANIZER_OWNED_PREFIX: &str = "X-MICROSOFT-CDO-";

/// Carries an attendee's local state from the stored component `old` into
/// the updated component `new`:
/// - `X-` properties that `new` does not carry (our own markers, client
///   flags), except `X-MICROSOFT-CDO-*`, which belong to the organizer;
/// - `VALARM`s, when `new` has none (alarms are the attendee's own);
/// - when the update is not significant (`keep_partstat`), the `PARTSTAT`
///   of attendees that `new` leaves at `NEEDS-ACTION` (the organizer may not
///   have our answer yet; a significant change asks everyone again).
fn carry_local_state(new: &mut OwnedComponent, old: &Component<'_>, keep_partstat: bool) {
    carry_x_properties(new, old, Some(ORGANIZER_OWNED_PREFIX));
    if new.is("VEVENT") && new.children("VALARM").next().is_none() {
        new.components.extend(old.children("VALARM").map(|a| a.to_static()));
    }
    if keep_partstat {
        let mut answered: HashMap<String, PartStat> = HashMap::new();
        for o in old.props("ATTENDEE").map(CalAddress::read) {
            if o.partstat != PartStat::NeedsAction {
                answered.entry(o.email.into_owned()).or_insert(o.partstat);
            }
        }
        for a in new.props_mut("ATTENDEE") {
            let now = a.param("PARTSTAT").map(PartStat::parse).unwrap_or_default();
            if now != PartStat::NeedsAction {
                continue;
            }
            if let Some(before) = answered.get(&email_of(&a.value)) {
                a.set_param("PARTSTAT", before.as_str().to_owned());
            }
        }
    }
}

/// Copies the `X-` properties of `old` whose name `new` does not carry (all
/// lines of such a name), but those starting with `except`.
fn carry_x_properties(new: &mut OwnedComponent, old: &Component<'_>, except: Option<&str>) {
    let present: HashSet<String> = new.properties.iter().map(|p| p.name.to_ascii_uppercase()).collect();
    for p in &old.properties {
        let name = p.name.to_ascii_uppercase();
        let owned_elsewhere = except.is_some_and(|x| name.starts_with(x));
        if name.starts_with("X-") && !owned_elsewhere && !present.contains(&name) {
            new.properties.push(p.to_static());
        }
    }
}

/// What a stored copy keeps of a calendar's top level: no `METHOD` (a
/// stored object is not a message, RFC 6638 3.1) and only the first
/// `VTIMEZONE` of each `TZID` (Exchange sends duplicates). The one rule
/// for [`as_stored`], [`stored_ics`] and the time zones added to a copy.
#[derive(Default)]
struct StoredShape {
    seen: HashSet<String>,
}

impl StoredShape {
    fn keeps_prop(p: &Property<'_>) -> bool {
        !p.name.eq_ignore_ascii_case("METHOD")
    }

    fn keeps_child(&mut self, c: &Component<'_>) -> bool {
        if !c.is("VTIMEZONE") {
            return true;
        }
        let Some(id) = vtimezone_id(c) else { return true };
        self.seen.insert(id)
    }
}

/// Removes every `VTIMEZONE` but the first of each `TZID`.
fn dedupe_timezones(cal: &mut OwnedComponent) {
    let mut shape = StoredShape::default();
    cal.components.retain(|c| shape.keeps_child(c));
}

/// A new invitation as the stored object's text: [`as_stored`] written
/// straight from the message, without an owned copy of its tree.
pub fn stored_ics(message: &Component<'_>) -> String {
    let mut shape = StoredShape::default();
    let mut out = String::with_capacity(crate::ical::write::written_len(message));
    crate::ical::write::write_filtered(message, StoredShape::keeps_prop, |c| shape.keeps_child(c), &mut out);
    out
}

/// Adds the `VTIMEZONE`s of `from` whose `TZID` `cal` lacks.
fn add_missing_timezones(cal: &mut OwnedComponent, from: &Component<'_>) {
    let known: HashSet<String> = cal.children("VTIMEZONE").filter_map(vtimezone_id).collect();
    let missing: Vec<OwnedComponent> = from
        .children("VTIMEZONE")
        .filter(|v| vtimezone_id(v).is_some_and(|id| !known.contains(&id)))
        .map(|v| v.to_static())
        .collect();
    // Time zones go before the events, as clients write them.
    let at = cal.components.iter().position(|c| !c.is("VTIMEZONE")).unwrap_or(cal.components.len());
    for (i, v) in missing.into_iter().enumerate() {
        cal.components.insert(at + i, v);
    }
    dedupe_timezones(cal);
}

/// The message as a stored object: `METHOD` removed, one `VTIMEZONE` per `TZID`.
pub fn as_stored(message: &Component<'_>) -> OwnedComponent {
    let mut cal = message.to_static();
    cal.properties.retain(StoredShape::keeps_prop);
    dedupe_timezones(&mut cal);
    cal
}

/// The outcome for a new stored copy: a duplicate when it is what we had.
/// For a message only the organizer may send about a stored object
/// (`CANCEL`, `ADD`): the stored copy and a copy of it to change, without
/// `METHOD`; or why the message changes nothing.
fn stored_for_organizer<'i, 'b>(
    input: &Inbound<'i, '_, 'b>,
) -> std::result::Result<(&'i Component<'b>, OwnedComponent), ProcessOutcome> {
    let Some((existing, _)) = input.stored else {
        return Err(ProcessOutcome::Ignored(Ignored::NoExistingAppointment));
    };
    if !input.is_from_organizer() {
        return Err(ProcessOutcome::Ignored(Ignored::SenderMismatch));
    }
    let mut new = existing.to_static();
    new.remove_props("METHOD");
    Ok((existing, new))
}

fn stored_or_duplicate(new: OwnedComponent, existing: &Component<'_>) -> ProcessOutcome {
    if new.to_ics() == existing.to_ics() {
        ProcessOutcome::Ignored(Ignored::Duplicate)
    } else {
        ProcessOutcome::Stored(new)
    }
}

// ---------------------------------------------------------------- REQUEST

/// Every `TZID` parameter used below `comp`.
pub(crate) fn referenced_tzids(comp: &Component<'_>) -> HashSet<String> {
    let mut out: HashSet<String> = HashSet::new();
    let mut stack = vec![comp];
    while let Some(c) = stack.pop() {
        if c.is("VTIMEZONE") {
            continue;
        }
        for p in &c.properties {
            if let Some(t) = p.param("TZID") {
                out.insert(t.trim().to_owned());
            }
        }
        stack.extend(c.components.iter());
    }
    out
}

// ------------------------------------------------------------------ REPLY

/// Why a reply component was not applied, in order of precedence.
fn worse(a: Option<Ignored>, b: Ignored) -> Option<Ignored> {
    let rank = |i: Ignored| match i {
        Ignored::UnknownAttendee => 0,
        Ignored::NoExistingAppointment => 1,
        Ignored::Stale => 2,
        _ => 3,
    };
    match a {
        Some(x) if rank(x) <= rank(b) => Some(x),
        _ => Some(b),
    }
}

/// Whether a message at `version` is older than the stored component `ev`.
/// `SEQUENCE` and `DTSTAMP` of a message component.
type Version = (Option<i64>, Option<NaiveDateTime>);

fn older(version: Version, ev: &Component<'_>) -> Result<bool> {
    Ok(compare_versions(version, version_of(ev)?) == Ordering::Less)
}
