//! Inbound iTIP (RFC 5546 3.2): an incoming message applied to the stored
//! copy of the object with the same `UID`.
//!
//! [`process`] is a pure function: it returns the new stored object, or why
//! the message changes nothing ([`Ignored`]); the caller stores. Each method
//! has its own function below, written as a list of early returns, one per
//! rule. Where sabre/vobject's broker is weaker than RFC 5546 we follow the
//! RFC; `docs/deviations.md` lists every such choice.
//!
//! Architecture Invariant: a message never changes an object it is not
//! entitled to: updates and cancellations only from the stored organizer,
//! replies only from an invited attendee speaking for itself (SPEC 3.3 rule 5).

use super::object::{
    SchedulingObject, dtstamp_of, events, in_form_of, instant, recurrence_key, sequence_of, vtimezone_id,
};
use super::significant::is_significant_change;
use super::trust::{Author, Principal, Recorded, delegated_by_author, vouch};
use super::vocab::{Method, PartStat, status_code};
use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::value::{
    DateTimeValue, email_of, parse_date_list_lenient, parse_date_time, parse_date_time_token, same_address,
};
use crate::ical::{Component, OwnedComponent, Param, Property};
use crate::outcome::Ignored;
use crate::tz::ZoneSet;
use chrono::{NaiveDateTime, TimeDelta};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

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
    let Some(method) = msg.method.clone() else {
        return Ok(ProcessOutcome::Ignored(Ignored::Unsupported));
    };
    let existing = existing.filter(|e| !events(e).is_empty());
    let stored = match existing {
        Some(e) => {
            let s = SchedulingObject::read(e)?;
            if s.uid != msg.uid {
                return Err(EngineError::new(
                    ErrorCode::InvalidContext,
                    format!("the stored object has uid `{}`, the message `{}`", s.uid, msg.uid),
                ));
            }
            Some((e, s))
        }
        None => None,
    };
    let input = Inbound { message, msg: &msg, stored: stored.as_ref().map(|(e, s)| (*e, s)), author };
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
    msg: &'i SchedulingObject,
    stored: Option<(&'i Component<'b>, &'i SchedulingObject)>,
    author: Option<&'i Author<'i>>,
}

impl Inbound<'_, '_, '_> {
    /// Zones of the message, then those of the stored copy.
    fn zones(&self) -> ZoneSet {
        let mut zones = ZoneSet::from_calendar(self.message);
        if let Some((e, _)) = self.stored {
            zones.merge(ZoneSet::from_calendar(e));
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
                Some(o) if same_address(&o.address, &known.address) => {}
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

/// Where a message stands against the stored copy (RFC 5546 2.1.5): by
/// `SEQUENCE` (absent = 0), then by `DTSTAMP` when both have one.
fn compare_versions(
    msg: (Option<i64>, Option<NaiveDateTime>),
    stored: (Option<i64>, Option<NaiveDateTime>),
) -> Ordering {
    match msg.0.unwrap_or(0).cmp(&stored.0.unwrap_or(0)) {
        Ordering::Equal => match (msg.1, stored.1) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => Ordering::Equal,
        },
        other => other,
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
        new.components.extend(old.children("VALARM").map(|a| a.clone().into_owned()));
    }
    if keep_partstat {
        let mut answered: HashMap<String, PartStat> = HashMap::new();
        for o in old.props("ATTENDEE") {
            let p = o.param("PARTSTAT").map(PartStat::parse).unwrap_or_default();
            if p != PartStat::NeedsAction {
                answered.entry(email_of(&o.value)).or_insert(p);
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
            new.properties.push(p.clone().into_owned());
        }
    }
}

/// Removes every `VTIMEZONE` but the first of each `TZID` (Exchange sends
/// duplicates).
fn dedupe_timezones(cal: &mut OwnedComponent) {
    let mut seen: HashSet<String> = HashSet::new();
    cal.components.retain(|c| {
        if !c.is("VTIMEZONE") {
            return true;
        }
        let Some(id) = vtimezone_id(c) else { return true };
        seen.insert(id)
    });
}

/// Adds the `VTIMEZONE`s of `from` whose `TZID` `cal` lacks.
fn add_missing_timezones(cal: &mut OwnedComponent, from: &Component<'_>) {
    let known: HashSet<String> = cal.children("VTIMEZONE").filter_map(vtimezone_id).collect();
    let missing: Vec<OwnedComponent> = from
        .children("VTIMEZONE")
        .filter(|v| vtimezone_id(v).is_some_and(|id| !known.contains(&id)))
        .map(|v| v.clone().into_owned())
        .collect();
    // Time zones go before the events, as clients write them.
    let at = cal.components.iter().position(|c| !c.is("VTIMEZONE")).unwrap_or(cal.components.len());
    for (i, v) in missing.into_iter().enumerate() {
        cal.components.insert(at + i, v);
    }
    dedupe_timezones(cal);
}

/// The message as a stored object: `METHOD` removed, one `VTIMEZONE` per `TZID`.
fn as_stored(message: &Component<'_>) -> OwnedComponent {
    let mut cal = message.clone().into_owned();
    cal.remove_props("METHOD");
    dedupe_timezones(&mut cal);
    cal
}

/// The outcome for a new stored copy: a duplicate when it is what we had.
fn stored_or_duplicate(new: OwnedComponent, existing: &Component<'_>) -> ProcessOutcome {
    if new.to_ics() == existing.to_ics() {
        ProcessOutcome::Ignored(Ignored::Duplicate)
    } else {
        ProcessOutcome::Stored(new)
    }
}

// ---------------------------------------------------------------- REQUEST

/// `REQUEST` (RFC 5546 3.2.2): a new invitation or an update.
fn request(input: &Inbound<'_, '_, '_>) -> Result<ProcessOutcome> {
    if !input.is_from_organizer() {
        return Ok(ProcessOutcome::Ignored(Ignored::SenderMismatch));
    }
    let Some((existing, _)) = input.stored else {
        return Ok(ProcessOutcome::Stored(as_stored(input.message)));
    };
    let zones = input.zones();
    if input.msg.has_master {
        // The whole object: the message replaces every component (RFC 5546
        // 3.2.2), after a version check against the stored master.
        let Some(msg_master) = events(input.message).into_iter().find(|e| e.prop("RECURRENCE-ID").is_none()) else {
            return Ok(ProcessOutcome::Ignored(Ignored::Unsupported));
        };
        let stored_index = Index::build(&zones, existing)?;
        let stored_main = match stored_index.find(None) {
            Some(i) => existing.components.get(i),
            None => events(existing).into_iter().next(),
        };
        if let Some(s) = stored_main
            && compare_versions(version_of(msg_master)?, version_of(s)?) == Ordering::Less
        {
            return Ok(ProcessOutcome::Ignored(Ignored::Stale));
        }
        let mut new = as_stored(input.message);
        carry_x_properties(&mut new, existing, None);
        let keep = !is_significant_change(existing, &new);
        carry_into(&zones, &mut new, existing, &stored_index, keep)?;
        add_referenced_timezones(&mut new, existing);
        return Ok(stored_or_duplicate(new, existing));
    }
    // Instances only (no master): update or add each override, keep the rest
    // of the series (an Exchange update of one occurrence must not wipe it).
    let mut new = existing.clone().into_owned();
    new.remove_props("METHOD");
    let mut index = Index::build(&zones, &new)?;
    let mut applied = false;
    for ev in events(input.message) {
        let key = recurrence_key(&zones, ev)?;
        let found = index.find(key);
        let against = match found {
            Some(i) => new.components.get(i),
            None => index.find(None).and_then(|i| new.components.get(i)),
        };
        if let Some(s) = against
            && compare_versions(version_of(ev)?, version_of(s)?) == Ordering::Less
        {
            continue;
        }
        let mut replacement = ev.clone().into_owned();
        match found.and_then(|i| new.components.get_mut(i).map(|slot| (i, slot))) {
            Some((_, slot)) => {
                let old = slot.clone();
                let mut probe_old = Component::new("VCALENDAR");
                probe_old.components.push(old.clone());
                let mut probe_new = Component::new("VCALENDAR");
                probe_new.components.push(replacement.clone());
                let keep = !is_significant_change(&probe_old, &probe_new);
                carry_local_state(&mut replacement, &old, keep);
                *slot = replacement;
            }
            None => {
                new.components.push(replacement);
                index.push(Some(key));
            }
        }
        applied = true;
    }
    if !applied {
        return Ok(ProcessOutcome::Ignored(Ignored::Stale));
    }
    add_missing_timezones(&mut new, input.message);
    Ok(stored_or_duplicate(new, existing))
}

/// Carries local state from each stored component into the component of the
/// same instance in `new`.
fn carry_into(
    zones: &ZoneSet,
    new: &mut OwnedComponent,
    existing: &Component<'_>,
    stored: &Index,
    keep: bool,
) -> Result<()> {
    let mut keys = Vec::with_capacity(new.components.len());
    for c in &new.components {
        keys.push(if c.is("VEVENT") { Some(recurrence_key(zones, c)?) } else { None });
    }
    for (slot, key) in new.components.iter_mut().zip(keys) {
        let Some(key) = key else { continue };
        if let Some(i) = stored.find(key)
            && let Some(old) = existing.components.get(i)
        {
            carry_local_state(slot, old, keep);
        }
    }
    Ok(())
}

/// Adds the stored `VTIMEZONE`s that `new` refers to but lacks (a `TZID`
/// kept through local state).
fn add_referenced_timezones(new: &mut OwnedComponent, existing: &Component<'_>) {
    let used = referenced_tzids(new);
    let known: HashSet<String> = new.children("VTIMEZONE").filter_map(vtimezone_id).collect();
    let mut wanted = Component::new("VCALENDAR");
    for v in existing.children("VTIMEZONE") {
        if vtimezone_id(v).is_some_and(|id| used.contains(&id) && !known.contains(&id)) {
            wanted.components.push(v.clone().into_owned());
        }
    }
    if !wanted.components.is_empty() {
        add_missing_timezones(new, &wanted);
    }
}

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

/// `REPLY` (RFC 5546 3.2.3): an attendee's answer, applied to the organizer's copy.
fn reply(input: &Inbound<'_, '_, '_>) -> Result<ProcessOutcome> {
    let Some((existing, _)) = input.stored else {
        return Ok(ProcessOutcome::Ignored(Ignored::NoExistingAppointment));
    };
    // The attendee the reply speaks for: the line the sender acts for, else
    // the first ATTENDEE (RFC 5546 3.2.3: a REPLY names exactly one).
    let lines: Vec<&Property<'_>> = events(input.message).into_iter().flat_map(|e| e.props("ATTENDEE")).collect();
    let Some(first) = lines.first() else {
        return Err(EngineError::at(
            ErrorCode::InvalidSchedulingObject,
            input.message.line.max(1),
            "the reply names no `ATTENDEE`",
        ));
    };
    let replier = match input.author {
        Some(author) => {
            let speaks = |l: &&&Property<'_>| {
                let recorded = events(existing)
                    .into_iter()
                    .flat_map(|e| e.props("ATTENDEE"))
                    .find(|a| same_address(&a.value, &l.value))
                    .and_then(|a| a.param("SENT-BY"));
                let principal = Principal {
                    address: &l.value,
                    claimed_sent_by: l.param("SENT-BY"),
                    recorded: Recorded::SentBy(recorded),
                };
                vouch(author, &principal).is_some()
            };
            let Some(line) = lines.iter().find(speaks) else {
                return Ok(ProcessOutcome::Ignored(Ignored::SenderMismatch));
            };
            line.value.trim().to_owned()
        }
        None => first.value.trim().to_owned(),
    };
    let zones = input.zones();
    let mut new = existing.clone().into_owned();
    new.remove_props("METHOD");
    let mut index = Index::build(&zones, &new)?;
    let excluded = match index.find(None).and_then(|m| new.components.get(m)) {
        Some(master) => exdates_of(&zones, master)?,
        None => HashSet::new(),
    };
    let mut seen = HashSet::new();
    let mut applied = false;
    let mut why: Option<Ignored> = None;
    for ev in events(input.message) {
        // One answer per instance: the first component for it.
        if !seen.insert(recurrence_key(&zones, ev)?) {
            continue;
        }
        let Some(line) = ev.props("ATTENDEE").find(|l| same_address(&l.value, &replier)) else { continue };
        let status = ReplyStatus {
            partstat: line.param("PARTSTAT").map(PartStat::parse).unwrap_or_default(),
            schedule_status: status_code(ev.value("REQUEST-STATUS")).unwrap_or("2.0").to_owned(),
            line,
            sequence: sequence_of(ev)?,
        };
        let mut target = Target { zones: &zones, cal: &mut new, index: &mut index, excluded: &excluded };
        match target.apply_reply(ev, &replier, &status)? {
            Ok(()) => applied = true,
            Err(reason) => why = worse(why, reason),
        }
    }
    if !applied {
        return Ok(ProcessOutcome::Ignored(why.unwrap_or(Ignored::UnknownAttendee)));
    }
    Ok(stored_or_duplicate(new, existing))
}

/// What one component of a reply says.
struct ReplyStatus<'r, 'a> {
    partstat: PartStat,
    schedule_status: String,
    line: &'r Property<'a>,
    sequence: Option<i64>,
}

/// The organizer's copy a reply is applied to.
struct Target<'t> {
    zones: &'t ZoneSet,
    cal: &'t mut OwnedComponent,
    index: &'t mut Index,
    /// The master's `EXDATE`s.
    excluded: &'t HashSet<NaiveDateTime>,
}

impl Target<'_> {
    /// Applies one component of a reply; `Err(reason)` when it is ignored.
    fn apply_reply(
        &mut self,
        ev: &Component<'_>,
        replier: &str,
        status: &ReplyStatus<'_, '_>,
    ) -> Result<std::result::Result<(), Ignored>> {
        let (zones, cal) = (self.zones, &mut *self.cal);
        let key = recurrence_key(zones, ev)?;
        let master = self.index.find(None);
        let mut targets: Vec<usize> = Vec::new();
        let mut created = false;
        match key {
            None => match master {
                Some(i) => targets.push(i),
                // No master: the answer holds for every instance of the attendee.
                None => {
                    for (i, c) in cal.components.iter().enumerate() {
                        if c.is("VEVENT") && has_attendee(c, replier) {
                            targets.push(i);
                        }
                    }
                }
            },
            Some(k) => match self.index.find(Some(k)) {
                Some(i) => targets.push(i),
                None => {
                    let Some(m) = master else { return Ok(Err(Ignored::NoExistingAppointment)) };
                    let Some(master_ev) = cal.components.get(m) else { return Ok(Err(Ignored::NoExistingAppointment)) };
                    if !has_attendee(master_ev, replier) {
                        return Ok(Err(Ignored::UnknownAttendee));
                    }
                    if !is_recurring(master_ev) {
                        // A single event: the answer is for its only instance.
                        targets.push(m);
                    } else {
                        if self.excluded.contains(&k) {
                            // The instance was cancelled since: an answer to an old version.
                            return Ok(Err(Ignored::Stale));
                        }
                        let Some(instance) = instance_from_master(zones, master_ev, k)? else {
                            return Ok(Err(Ignored::NoExistingAppointment));
                        };
                        cal.components.push(instance);
                        self.index.push(Some(Some(k)));
                        targets.push(cal.components.len() - 1);
                        created = true;
                    }
                }
            },
        }
        let mut result = Err(Ignored::UnknownAttendee);
        for i in targets {
            let Some(target) = cal.components.get_mut(i) else { continue };
            if !has_attendee(target, replier) {
                result = Err(Ignored::UnknownAttendee);
                continue;
            }
            let current = sequence_of(target)?;
            if let Some(seq) = status.sequence
                && seq < current.unwrap_or(0)
                && !answers_current_version(ev, zones, target, zones)
            {
                // An answer to a version the organizer has moved since.
                result = Err(Ignored::Stale);
                continue;
            }
            set_answer(target, replier, status, created);
            result = Ok(());
        }
        Ok(result)
    }
}

/// Whether the reply component `reply` answers what `current` (the
/// organizer's component for that instance) is now, although its `SEQUENCE`
/// is lower (servers and clients renumber; RFC 5546 2.1.5 only asks that an
/// answer to an older version not undo a newer one): the same start, the
/// same end where both give one, and the same rules where the reply carries
/// them. A reply that does not say when its instance is answers nothing
/// current.
pub fn answers_current_version(
    reply: &Component<'_>,
    reply_zones: &ZoneSet,
    current: &Component<'_>,
    current_zones: &ZoneSet,
) -> bool {
    let at = |ev: &Component<'_>, zones: &ZoneSet, name: &str| {
        ev.prop(name).and_then(|p| parse_date_time(p).ok()).map(|v| instant(zones, &v))
    };
    let Some(start) = at(reply, reply_zones, "DTSTART") else { return false };
    if Some(start) != at(current, current_zones, "DTSTART") {
        return false;
    }
    if let (Some(a), Some(b)) = (at(reply, reply_zones, "DTEND"), at(current, current_zones, "DTEND"))
        && a != b
    {
        return false;
    }
    let rules = |ev: &Component<'_>| {
        let mut r: Vec<String> = ev.props("RRULE").map(|p| p.value.trim().to_ascii_uppercase()).collect();
        r.sort();
        r
    };
    reply.prop("RRULE").is_none() || rules(reply) == rules(current)
}

fn has_attendee(ev: &Component<'_>, address: &str) -> bool {
    ev.props("ATTENDEE").any(|a| same_address(&a.value, address))
}

fn is_recurring(ev: &Component<'_>) -> bool {
    ev.prop("RRULE").is_some() || ev.prop("RDATE").is_some()
}

/// The instants of the `EXDATE`s of `master`.
fn exdates_of(zones: &ZoneSet, master: &Component<'_>) -> Result<HashSet<NaiveDateTime>> {
    let mut out = HashSet::new();
    for p in master.props("EXDATE") {
        for item in parse_date_list_lenient(p).0 {
            if let crate::ical::value::DateOrPeriod::At(v) = item {
                out.insert(instant(zones, &v));
            }
        }
    }
    Ok(out)
}

/// Records the answer on the attendee's line: `PARTSTAT`, `SCHEDULE-STATUS`
/// (not on an override created for the answer, as sabre/vobject does),
/// `RSVP` dropped (answered), delegation (RFC 5546 3.2.2.3).
fn set_answer(target: &mut OwnedComponent, replier: &str, status: &ReplyStatus<'_, '_>, created: bool) {
    let delegated_to: Vec<String> = status
        .line
        .params
        .iter()
        .filter(|p| p.name.eq_ignore_ascii_case("DELEGATED-TO"))
        .flat_map(|p| p.values.iter().map(|v| v.to_string()))
        .collect();
    for a in target.props_mut("ATTENDEE") {
        if !same_address(&a.value, replier) {
            continue;
        }
        a.set_param("PARTSTAT", status.partstat.as_str().to_owned());
        if !created {
            a.set_param("SCHEDULE-STATUS", status.schedule_status.clone());
        }
        a.remove_param("RSVP");
        if !delegated_to.is_empty() {
            a.remove_param("DELEGATED-TO");
            a.params.push(Param {
                name: "DELEGATED-TO".into(),
                values: delegated_to.iter().map(|v| v.clone().into()).collect(),
            });
        }
    }
    // Delegates the reply introduces (RFC 5546 3.2.2.3): added once.
    for d in &delegated_to {
        if !has_attendee(target, d) {
            let mut line = Property::new("ATTENDEE", d.clone());
            line.set_param("DELEGATED-FROM", replier.to_owned());
            line.set_param("PARTSTAT", PartStat::NeedsAction.as_str().to_owned());
            target.properties.push(line);
        }
    }
}

/// A new override for the instance at `key`, made from the master: the
/// master's properties without recurrence, `DTSTART` at the instance (in the
/// master's form), `DTEND` at the same exact duration (RFC 5545 3.8.5.3),
/// and `RECURRENCE-ID`.
pub(crate) fn instance_from_master(
    zones: &ZoneSet,
    master: &Component<'_>,
    key: NaiveDateTime,
) -> Result<Option<OwnedComponent>> {
    let Some(start_prop) = master.prop("DTSTART") else { return Ok(None) };
    let start = parse_date_time(start_prop)?;
    let new_start = in_form_of(zones, &start, key);
    let end = match master.prop("DTEND") {
        Some(p) => Some(parse_date_time(p)?),
        None => None,
    };
    let mut ev = master.clone().into_owned();
    for name in ["RRULE", "RDATE", "EXDATE", "EXRULE"] {
        ev.remove_props(name);
    }
    if let Some(p) = ev.prop_mut("DTSTART") {
        p.value = new_start.to_ical_value().into();
    }
    if let Some(end) = end {
        let length: TimeDelta = instant(zones, &end) - instant(zones, &start);
        let new_end = in_form_of(zones, &end, key + length);
        if let Some(p) = ev.prop_mut("DTEND") {
            p.value = new_end.to_ical_value().into();
        }
    }
    let mut rid = Property::new("RECURRENCE-ID", new_start.to_ical_value());
    rid.params = start_prop.params.iter().map(|p| p.clone().into_owned()).collect();
    ev.properties.push(rid);
    Ok(Some(ev))
}

// ----------------------------------------------------------------- CANCEL

/// `CANCEL` (RFC 5546 3.2.5): the whole object, or the instances it names.
fn cancel(input: &Inbound<'_, '_, '_>) -> Result<ProcessOutcome> {
    let Some((existing, _)) = input.stored else {
        return Ok(ProcessOutcome::Ignored(Ignored::NoExistingAppointment));
    };
    if !input.is_from_organizer() {
        return Ok(ProcessOutcome::Ignored(Ignored::SenderMismatch));
    }
    let zones = input.zones();
    let mut new = existing.clone().into_owned();
    new.remove_props("METHOD");
    let mut index = Index::build(&zones, &new)?;
    let mut excluded = match index.find(None).and_then(|m| new.components.get(m)) {
        Some(master) => exdates_of(&zones, master)?,
        None => HashSet::new(),
    };
    let mut applied = false;
    let mut why: Option<Ignored> = None;
    for ev in events(input.message) {
        let version = version_of(ev)?;
        let range = ev
            .prop("RECURRENCE-ID")
            .and_then(|p| p.param("RANGE"))
            .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
        let key = recurrence_key(&zones, ev)?;
        let mut target = Cancelling { zones: &zones, cal: &mut new, index: &mut index, excluded: &mut excluded };
        let outcome = match key {
            None => target.all(version)?,
            Some(k) if range => target.from(k, version)?,
            Some(k) => target.one(k, version)?,
        };
        match outcome {
            Ok(()) => applied = true,
            Err(reason) => why = worse(why, reason),
        }
    }
    if !applied {
        return Ok(ProcessOutcome::Ignored(why.unwrap_or(Ignored::NoExistingAppointment)));
    }
    Ok(stored_or_duplicate(new, existing))
}

/// `SEQUENCE` and `DTSTAMP` of a message component.
type Version = (Option<i64>, Option<NaiveDateTime>);

/// Applied, or ignored and why.
type Applied = std::result::Result<(), Ignored>;

fn mark_cancelled(ev: &mut OwnedComponent, sequence: Option<i64>) {
    ev.set_value("STATUS", "CANCELLED");
    if let Some(s) = sequence {
        ev.set_value("SEQUENCE", s.to_string());
    }
}

/// Whether a message at `version` is older than the stored component `ev`.
fn older(version: Version, ev: &Component<'_>) -> Result<bool> {
    Ok(compare_versions(version, version_of(ev)?) == Ordering::Less)
}

fn raise_sequence(ev: &mut OwnedComponent, sequence: Option<i64>) {
    if let Some(s) = sequence {
        let current = sequence_of(ev).ok().flatten().unwrap_or(0);
        if s > current {
            ev.set_value("SEQUENCE", s.to_string());
        }
    }
}

/// The stored copy a cancellation is applied to.
struct Cancelling<'t> {
    zones: &'t ZoneSet,
    cal: &'t mut OwnedComponent,
    index: &'t mut Index,
    /// The master's `EXDATE`s, kept in step.
    excluded: &'t mut HashSet<NaiveDateTime>,
}

impl Cancelling<'_> {
    /// The whole object: every component gets `STATUS:CANCELLED` and the
    /// message's `SEQUENCE`.
    fn all(&mut self, version: Version) -> Result<Applied> {
        let main = match self.index.find(None) {
            Some(i) => self.cal.components.get(i),
            None => self.cal.components.iter().find(|c| c.is("VEVENT")),
        };
        if let Some(m) = main
            && older(version, m)?
        {
            return Ok(Err(Ignored::Stale));
        }
        for c in self.cal.components.iter_mut().filter(|c| c.is("VEVENT")) {
            mark_cancelled(c, version.0);
        }
        Ok(Ok(()))
    }

    /// One instance: its override gets `STATUS:CANCELLED`, or the master an
    /// `EXDATE` in its own form.
    fn one(&mut self, key: NaiveDateTime, version: Version) -> Result<Applied> {
        if let Some(i) = self.index.find(Some(key)) {
            let Some(ev) = self.cal.components.get_mut(i) else { return Ok(Err(Ignored::NoExistingAppointment)) };
            if older(version, ev)? {
                return Ok(Err(Ignored::Stale));
            }
            mark_cancelled(ev, version.0);
            return Ok(Ok(()));
        }
        let Some(m) = self.index.find(None) else { return Ok(Err(Ignored::NoExistingAppointment)) };
        let Some(master) = self.cal.components.get_mut(m) else { return Ok(Err(Ignored::NoExistingAppointment)) };
        if older(version, master)? {
            return Ok(Err(Ignored::Stale));
        }
        if !is_recurring(master) {
            // A single event has one instance: cancelling it cancels the event.
            mark_cancelled(master, version.0);
            return Ok(Ok(()));
        }
        if self.excluded.insert(key) {
            let Some(start) = master.prop("DTSTART") else { return Ok(Err(Ignored::NoExistingAppointment)) };
            let start = parse_date_time(start)?;
            master.properties.push(in_form_of(self.zones, &start, key).to_property("EXDATE"));
        }
        // A message about one instance leaves the master's SEQUENCE alone:
        // the series itself was not re-sent (a later update of the series
        // at its own number must not look stale).
        Ok(Ok(()))
    }

    /// `RANGE=THISANDFUTURE`: the instance and every later one. The master's
    /// rules end just before it (`UNTIL`, `COUNT` dropped), later `RDATE`s and
    /// overrides go. Without a master, as [`Cancelling::one`].
    fn from(&mut self, key: NaiveDateTime, version: Version) -> Result<Applied> {
        let Some(m) = self.index.find(None) else { return self.one(key, version) };
        let Some(master) = self.cal.components.get(m) else { return Ok(Err(Ignored::NoExistingAppointment)) };
        if older(version, master)? {
            return Ok(Err(Ignored::Stale));
        }
        let Some(start_prop) = master.prop("DTSTART") else { return self.one(key, version) };
        let start = parse_date_time(start_prop)?;
        if key <= instant(self.zones, &start) {
            return self.all(version);
        }
        self.index.retain(self.cal, |k| !matches!(k, Some(Some(at)) if at >= key));
        let Some(m) = self.index.find(None) else { return Ok(Err(Ignored::NoExistingAppointment)) };
        let Some(master) = self.cal.components.get_mut(m) else { return Ok(Err(Ignored::NoExistingAppointment)) };
        let until = match &start {
            DateTimeValue::Date(_) => DateTimeValue::Date(key.date() - TimeDelta::days(1)),
            DateTimeValue::Floating(_) => DateTimeValue::Floating(key - TimeDelta::seconds(1)),
            _ => DateTimeValue::Utc(key - TimeDelta::seconds(1)),
        };
        for rule in master.props_mut("RRULE") {
            let mut parts: Vec<&str> = rule
                .value
                .split(';')
                .filter(|p| {
                    let k = p.split('=').next().unwrap_or("").trim();
                    !k.is_empty() && !k.eq_ignore_ascii_case("UNTIL") && !k.eq_ignore_ascii_case("COUNT")
                })
                .collect();
            let until = format!("UNTIL={}", until.to_ical_value());
            parts.push(&until);
            rule.value = parts.join(";").into();
        }
        // RDATE values (dates, date-times or periods) from the instance on go.
        for p in master.props_mut("RDATE") {
            let date_only = p.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
            let tzid = p.param("TZID").map(str::to_owned);
            let kept: Vec<&str> = p
                .value
                .split(',')
                .filter(|token| {
                    let first = token.split('/').next().unwrap_or("");
                    parse_date_time_token(first, tzid.as_deref(), date_only)
                        .is_none_or(|v| instant(self.zones, &v) < key)
                })
                .collect();
            p.value = kept.join(",").into();
        }
        master.properties.retain(|p| !(p.name.eq_ignore_ascii_case("RDATE") && p.value.trim().is_empty()));
        raise_sequence(master, version.0);
        Ok(Ok(()))
    }
}

// -------------------------------------------------------------------- ADD

/// `ADD` (RFC 5546 3.2.4): new instances of a recurring event. Each
/// component of the message becomes an `RDATE` of the master and an
/// override carrying the instance's own properties.
fn add(input: &Inbound<'_, '_, '_>) -> Result<ProcessOutcome> {
    let Some((existing, _)) = input.stored else {
        return Ok(ProcessOutcome::Ignored(Ignored::NoExistingAppointment));
    };
    if !input.is_from_organizer() {
        return Ok(ProcessOutcome::Ignored(Ignored::SenderMismatch));
    }
    let zones = input.zones();
    let mut new = existing.clone().into_owned();
    new.remove_props("METHOD");
    let mut index = Index::build(&zones, &new)?;
    let master_at = index.find(None);
    if let Some(master) = master_at.and_then(|i| new.components.get(i)) {
        let msg_main = events(input.message).into_iter().next();
        if let Some(m) = msg_main
            && older(version_of(m)?, master)?
        {
            return Ok(ProcessOutcome::Ignored(Ignored::Stale));
        }
    }
    for ev in events(input.message) {
        let Some(start_prop) = ev.prop("DTSTART") else { continue };
        let start = parse_date_time(start_prop)?;
        let rid = match ev.prop("RECURRENCE-ID") {
            Some(p) => parse_date_time(p)?,
            None => start.clone(),
        };
        let key = instant(&zones, &rid);
        if index.find(Some(key)).is_some() {
            continue;
        }
        if let Some(master) = master_at.and_then(|i| new.components.get_mut(i)) {
            // The new instance is the master's RDATE; the master's SEQUENCE
            // stays, as for any message about instances only.
            master.properties.push(rid.to_property("RDATE"));
        }
        let mut instance = ev.clone().into_owned();
        if instance.prop("RECURRENCE-ID").is_none() {
            instance.properties.push(rid.to_property("RECURRENCE-ID"));
        }
        new.components.push(instance);
        index.push(Some(Some(key)));
    }
    add_missing_timezones(&mut new, input.message);
    Ok(stored_or_duplicate(new, existing))
}
