//! Outgoing iTIP: the messages to send after the user saved, changed or
//! deleted a calendar object (RFC 5546 3.2; sabre/vobject's
//! `Broker::parseEvent` is the model).
//!
//! - The user is the organizer: a `REQUEST` to each attendee with the
//!   instances they are in (the master gets an `EXDATE` for each override
//!   they are not in), a `CANCEL` to each attendee removed from every
//!   instance, a `CANCEL` to everyone when the object is deleted or
//!   `STATUS:CANCELLED`, and a `CANCEL` for each override newly cancelled.
//! - The user is an attendee: a `REPLY` to the organizer for each instance
//!   whose `PARTSTAT` the user changed, and `DECLINED` for the instances the
//!   user deleted (a new `EXDATE`) or when the user deleted the object.
//!
//! `SCHEDULE-AGENT=CLIENT` (RFC 6638 7.1) on an attendee or on the organizer
//! means their client sends: no message. `SCHEDULE-FORCE-SEND` (RFC 6638
//! 7.2) sends one although nothing changed; it is removed from what we send,
//! as is `SCHEDULE-STATUS`.
//!
//! `SEQUENCE` (RFC 5545 3.8.7.4): when the change is significant
//! ([`is_significant_change`]) and the new copy did not raise `SEQUENCE`
//! above the old one, the messages carry old + 1; when the organizer
//! deletes the object, the `CANCEL`s carry old + 1. The caller stores the
//! `SEQUENCE` it sent (it is in every `ics`).

use super::object::{
    CalAddress, SchedulingObject, dtstart_of, events, exdate_instants, in_form_of, normalize_address, recurrence_id_of,
    recurrence_key, recurrence_line, time_lines,
};
use super::reply::{ReplyEvent, attach_timezones, first_summary, message_calendar};
use super::significant::is_significant_change;
use super::vocab::{PartStat, ScheduleAgent};
use crate::error::{EngineError, ErrorCode, Result};
use crate::ical::value::{DateTimeValue, email_of, same_address};
use crate::ical::{Component, OwnedComponent, Property};
use chrono::NaiveDateTime;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// One message to send: to one recipient, with its iCalendar body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct OutgoingMessage {
    /// `UID` of the object.
    pub uid: String,
    /// `REQUEST`, `CANCEL` or `REPLY`.
    pub method: String,
    /// Who sends it (a cal-address, `mailto:` lower-cased).
    pub sender: String,
    /// `CN` of the sender.
    pub sender_name: Option<String>,
    /// Who receives it (a cal-address, `mailto:` lower-cased).
    pub recipient: String,
    /// `CN` of the recipient.
    pub recipient_name: Option<String>,
    /// Whether the recipient must look at it again: a significant change
    /// (RFC 5546 2.1.4), a change of the instances they are in, a
    /// cancellation, a forced send, or an answer.
    pub significant_change: bool,
    /// The message body: a `VCALENDAR` with `METHOD`.
    pub ics: String,
}

/// Options of [`schedule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleOptions {
    /// Now, in UTC: the `DTSTAMP` of every message.
    pub now: NaiveDateTime,
    /// `Some(v)`: write `RSVP=TRUE` or `RSVP=FALSE` on the external attendees
    /// (everyone but the organizer and the user) of `REQUEST`s, as the
    /// "request for reply" preference says; `None`: leave `RSVP` as it is.
    pub rsvp: Option<bool>,
}

/// The messages to send after the user (whose addresses are `user`) changed
/// a calendar object from `old` to `new` (`old` `None`: created; `new`
/// `None`: deleted).
///
/// Nothing is sent for an object without organizer or without attendees, for
/// a `VTODO`, or when the user is neither the organizer nor an attendee.
///
/// Errors: the errors of [`SchedulingObject::read`] for either copy
/// (different `UID`s or organizers between components, ...), and
/// [`ErrorCode::InvalidContext`] when `old` and `new` are different objects.
pub fn schedule(
    old: Option<&Component<'_>>,
    new: Option<&Component<'_>>,
    user: &[String],
    opts: &ScheduleOptions,
) -> Result<Vec<OutgoingMessage>> {
    let old = old.filter(|c| !events(c).is_empty());
    let new = new.filter(|c| !events(c).is_empty());
    let old = match old {
        Some(c) => Some(Side::read(c)?),
        None => None,
    };
    let new = match new {
        Some(c) => Some(Side::read(c)?),
        None => None,
    };
    if let (Some(o), Some(n)) = (&old, &new)
        && o.object.uid != n.object.uid
    {
        return Err(EngineError::new(
            ErrorCode::InvalidContext,
            format!("the old copy has uid `{}`, the new one `{}`", o.object.uid, n.object.uid),
        ));
    }
    let Some(base) = new.as_ref().or(old.as_ref()) else { return Ok(Vec::new()) };
    let no_attendees = |s: &Option<Side<'_, '_>>| s.as_ref().is_none_or(|s| s.object.attendees().is_empty());
    if no_attendees(&old) && no_attendees(&new) {
        return Ok(Vec::new());
    }
    let organizer = new
        .as_ref()
        .and_then(|s| s.object.organizer.clone())
        .or_else(|| old.as_ref().and_then(|s| s.object.organizer.clone()));
    let Some(organizer) = organizer else { return Ok(Vec::new()) };
    if organizer.schedule_agent == ScheduleAgent::Client {
        // RFC 6638 7.1: the organizer's client schedules this object itself.
        return Ok(Vec::new());
    }
    let is_user = |address: &str| user.iter().any(|u| same_address(u, address));
    let ctx = Context { old: old.as_ref(), new: new.as_ref(), base, organizer: &organizer, user, opts };
    if is_user(&organizer.address) {
        return organizer_messages(&ctx);
    }
    let me = base.object.attendees().iter().find(|a| is_user(&a.address));
    match me {
        Some(me) => attendee_reply(&ctx, &me.address),
        None => Ok(Vec::new()),
    }
}

/// One copy of the object, read.
struct Side<'c, 'a> {
    calendar: &'c Component<'a>,
    object: SchedulingObject<'c, 'a>,
    /// The components by instance (`None`: the master); the first of each
    /// instance wins.
    instances: Vec<(Option<NaiveDateTime>, &'c Component<'a>)>,
    /// Position in `instances` by instance.
    at: HashMap<Option<NaiveDateTime>, usize>,
    /// By attendee e-mail: the instances they are in as server-scheduled
    /// attendees, their first `ATTENDEE` line, and whether a `REQUEST` is
    /// forced for them (`SCHEDULE-FORCE-SEND=REQUEST`).
    attendance: HashMap<String, Attendance<'c, 'a>>,
    /// The instants of the master's `EXDATE`s.
    exdates: HashSet<NaiveDateTime>,
}

/// One attendee in one copy.
struct Attendance<'c, 'a> {
    keys: Vec<Option<NaiveDateTime>>,
    line: &'c Property<'a>,
    forced: bool,
}

impl<'c, 'a> Side<'c, 'a> {
    fn read(calendar: &'c Component<'a>) -> Result<Self> {
        let object = SchedulingObject::read(calendar)?;
        let mut instances: Vec<(Option<NaiveDateTime>, &'c Component<'a>)> = Vec::new();
        let mut at = HashMap::new();
        for ev in events(calendar) {
            let key = recurrence_key(&object.zones, ev)?;
            match at.entry(key) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(instances.len());
                    instances.push((key, ev));
                }
                std::collections::hash_map::Entry::Occupied(_) => {
                    // Which of the two would the attendees get? Refuse.
                    let what = match key {
                        None => "two masters (components without `RECURRENCE-ID`)".to_owned(),
                        Some(k) => format!("two components for the instance `{}`", k.format("%Y-%m-%dT%H:%M:%S")),
                    };
                    return Err(EngineError::at(
                        ErrorCode::InvalidSchedulingObject,
                        ev.line.max(1),
                        format!("the object `{}` has {what}: it cannot be scheduled", object.uid),
                    ));
                }
            }
        }
        if let Some(todo) = calendar.children("VTODO").find(|t| t.value("UID").is_some_and(|u| u.trim() == object.uid))
        {
            return Err(EngineError::at(
                ErrorCode::InvalidSchedulingObject,
                todo.line.max(1),
                format!("the object `{}` is both a `VEVENT` and a `VTODO`: it cannot be scheduled", object.uid),
            ));
        }
        let mut attendance: HashMap<String, Attendance<'c, 'a>> = HashMap::new();
        for (key, ev) in &instances {
            for line in ev.props("ATTENDEE") {
                let entry = attendance.entry(email_of(&line.value)).or_insert(Attendance {
                    keys: Vec::new(),
                    line,
                    forced: false,
                });
                if !is_client_scheduled(line) && entry.keys.last() != Some(key) {
                    entry.keys.push(*key);
                }
                entry.forced |= line.param("SCHEDULE-FORCE-SEND").is_some_and(|f| f.eq_ignore_ascii_case("REQUEST"));
            }
        }
        let exdates = match instances.iter().find(|(k, _)| k.is_none()) {
            Some((_, m)) => exdate_instants(&object.zones, m),
            None => HashSet::new(),
        };
        Ok(Side { calendar, object, instances, at, attendance, exdates })
    }

    fn master(&self) -> Option<&'c Component<'a>> {
        self.instances.iter().find(|(k, _)| k.is_none()).map(|(_, c)| *c)
    }

    /// The master, else the first component.
    fn main(&self) -> Option<&'c Component<'a>> {
        self.master().or_else(|| self.instances.first().map(|(_, c)| *c))
    }

    fn component(&self, key: Option<NaiveDateTime>) -> Option<&'c Component<'a>> {
        self.at.get(&key).and_then(|i| self.instances.get(*i)).map(|(_, c)| *c)
    }

    /// The instances `address` is in, as a server-scheduled attendee.
    fn keys_of(&self, address: &str) -> Vec<Option<NaiveDateTime>> {
        self.attendance.get(&email_of(address)).map(|a| a.keys.clone()).unwrap_or_default()
    }

    fn is_cancelled(&self) -> bool {
        self.object.status.as_deref() == Some("CANCELLED")
    }

    /// The form instances are named in: the master's `DTSTART`, else the
    /// first `RECURRENCE-ID` (an object of overrides only).
    fn instance_model(&self) -> Result<Option<DateTimeValue>> {
        if let Some(m) = self.master()
            && let Some(start) = dtstart_of(m)?
        {
            return Ok(Some(start));
        }
        match self.instances.first() {
            Some((_, c)) => Ok(recurrence_id_of(c)?.map(|(v, _)| v)),
            None => Ok(None),
        }
    }
}

struct Context<'x, 'c, 'a> {
    old: Option<&'x Side<'c, 'a>>,
    new: Option<&'x Side<'c, 'a>>,
    base: &'x Side<'c, 'a>,
    organizer: &'x CalAddress<'c>,
    user: &'x [String],
    opts: &'x ScheduleOptions,
}

fn attendee_line<'c, 'a>(ev: &'c Component<'a>, address: &str) -> Option<&'c Property<'a>> {
    ev.props("ATTENDEE").find(|a| same_address(&a.value, address))
}

/// Whether a calendar address can receive e-mail: a `mailto:` URI (or a
/// bare address) that, percent-decoded, is one `local@domain` with no white
/// space, control character, comma or angle bracket, and a dotted domain.
fn is_deliverable(address: &str) -> bool {
    let t = address.trim();
    let is_uri = t.contains(':');
    let mailto = t.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("mailto:"));
    if is_uri && !mailto {
        return false;
    }
    let email = email_of(t);
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, ',' | '<' | '>' | '@' | '"' | ';' | ':');
    !local.is_empty()
        && !domain.is_empty()
        && !local.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '<' | '>'))
        && !domain.chars().any(bad)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

fn is_client_scheduled(p: &Property<'_>) -> bool {
    p.param("SCHEDULE-AGENT").map(ScheduleAgent::parse) == Some(ScheduleAgent::Client)
}

fn sequence(side: Option<&Side<'_, '_>>) -> i64 {
    side.and_then(|s| s.object.sequence).unwrap_or(0)
}

// -------------------------------------------------------------- organizer

fn organizer_messages(ctx: &Context<'_, '_, '_>) -> Result<Vec<OutgoingMessage>> {
    let significant = match (ctx.old, ctx.new) {
        (Some(o), Some(n)) => is_significant_change(o.calendar, n.calendar),
        _ => true,
    };
    let (old_seq, new_seq) = (sequence(ctx.old), sequence(ctx.new));
    // Never below what the attendees saw; one more after a significant
    // change the new copy did not count, or a deletion.
    let seq = match (ctx.old, ctx.new) {
        (Some(_), None) => old_seq + 1,
        (Some(_), Some(_)) if significant && new_seq <= old_seq => old_seq + 1,
        (Some(_), Some(_)) => new_seq.max(old_seq),
        _ => new_seq,
    };
    let bump = ctx.new.is_some() && seq != new_seq;
    let cancelled = ctx.new.is_some_and(Side::is_cancelled);

    // Attendees in order of first appearance, the old copy first.
    let mut addresses: Vec<String> = Vec::new();
    let mut known = HashSet::new();
    for side in [ctx.old, ctx.new].into_iter().flatten() {
        for a in side.object.attendees() {
            if known.insert(a.email.clone()) {
                addresses.push(a.address.to_string());
            }
        }
    }
    let mut out = Vec::new();
    let mut total = 0usize;
    for address in addresses {
        if same_address(&address, &ctx.organizer.address) || ctx.user.iter().any(|u| same_address(u, &address)) {
            continue;
        }
        if !is_deliverable(&address) {
            // Not an e-mail address once decoded (RFC 6068): nobody to send to.
            continue;
        }
        let old_keys = ctx.old.map(|s| s.keys_of(&address)).unwrap_or_default();
        let new_keys = ctx.new.map(|s| s.keys_of(&address)).unwrap_or_default();
        if old_keys.is_empty() && new_keys.is_empty() {
            continue;
        }
        let email = email_of(&address);
        let line = [ctx.new, ctx.old].into_iter().flatten().find_map(|s| s.attendance.get(&email).map(|a| a.line));
        let name = line.map(CalAddress::read).and_then(|a| a.name.map(Cow::into_owned));
        let envelope = |method: &str, significant_change: bool, ics: String| OutgoingMessage {
            uid: ctx.base.object.uid.clone(),
            method: method.to_owned(),
            sender: normalize_address(&ctx.organizer.address),
            sender_name: ctx.organizer.name.as_deref().map(str::to_owned),
            recipient: normalize_address(&address),
            recipient_name: name.clone(),
            significant_change,
            ics,
        };
        let Some(new) = ctx.new.filter(|_| !new_keys.is_empty() && !cancelled) else {
            // The whole object is cancelled (deleted, or STATUS:CANCELLED),
            // or only this attendee is uninvited (RFC 5546 3.2.5: only the
            // former carries STATUS:CANCELLED).
            let whole = ctx.new.is_none() || cancelled;
            let body = cancel_body(ctx, &address, name.as_deref(), seq, Cancelled::Object { whole });
            push_checked(&mut out, &mut total, envelope("CANCEL", true, body.to_ics()))?;
            continue;
        };
        let forced = new.attendance.get(&email).is_some_and(|a| a.forced);
        let changed = forced || significant || old_keys != new_keys;
        let body = request_body(ctx, new, &new_keys, bump.then_some(seq))?;
        push_checked(&mut out, &mut total, envelope("REQUEST", changed, body.to_ics()))?;
        // Overrides newly cancelled: a CANCEL for each (RFC 5546 3.2.5).
        for key in new_keys.iter().flatten() {
            let Some(ev) = new.component(Some(*key)) else { continue };
            if !is_status_cancelled(ev) {
                continue;
            }
            let before = ctx.old.and_then(|o| o.component(Some(*key)));
            if before.is_some_and(is_status_cancelled) {
                continue;
            }
            let body =
                cancel_body(ctx, &address, name.as_deref(), seq.max(sequence_of_event(ev)), Cancelled::Instance(ev));
            push_checked(&mut out, &mut total, envelope("CANCEL", true, body.to_ics()))?;
        }
    }
    Ok(out)
}

/// Most bytes of message bodies one change may produce: each attendee gets
/// a copy of the object, so a huge object with many attendees would
/// otherwise allocate without bound (SPEC 7).
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// Adds a message, refusing when the bodies exceed [`MAX_OUTPUT_BYTES`].
fn push_checked(out: &mut Vec<OutgoingMessage>, total: &mut usize, message: OutgoingMessage) -> Result<()> {
    *total = total.saturating_add(message.ics.len());
    out.push(message);
    if *total > MAX_OUTPUT_BYTES {
        return Err(EngineError::new(
            ErrorCode::TooLarge,
            format!(
                "the {} messages to send come to more than {} bytes; send fewer attendees a smaller object",
                out.len(),
                MAX_OUTPUT_BYTES
            ),
        ));
    }
    Ok(())
}

fn is_status_cancelled(ev: &Component<'_>) -> bool {
    ev.value("STATUS").is_some_and(|s| s.trim().eq_ignore_ascii_case("CANCELLED"))
}

fn sequence_of_event(ev: &Component<'_>) -> i64 {
    super::object::sequence_of(ev).ok().flatten().unwrap_or(0)
}

/// Removes the scheduling parameters that are not ours to send (RFC 6638
/// 7.1 to 7.3): they speak to the organizer's own server, not to attendees.
fn strip_scheduling_params(p: &mut Property<'_>) {
    p.remove_param("SCHEDULE-FORCE-SEND");
    p.remove_param("SCHEDULE-STATUS");
    p.remove_param("SCHEDULE-AGENT");
}

/// The `REQUEST` for one attendee: the instances they are in.
fn request_body(
    ctx: &Context<'_, '_, '_>,
    new: &Side<'_, '_>,
    keys: &[Option<NaiveDateTime>],
    bumped: Option<i64>,
) -> Result<OwnedComponent> {
    let mut msg = message_calendar("REQUEST");
    let keys: HashSet<Option<NaiveDateTime>> = keys.iter().copied().collect();
    let excluded: Vec<NaiveDateTime> =
        new.instances.iter().filter_map(|(k, _)| *k).filter(|k| !keys.contains(&Some(*k))).collect();
    let already = &new.exdates;
    for (key, comp) in &new.instances {
        if !keys.contains(key) {
            continue;
        }
        let mut ev = comp.to_static();
        if key.is_none() {
            // The master: the instances the attendee is not in are excluded.
            let missing: Vec<NaiveDateTime> = excluded.iter().copied().filter(|k| !already.contains(k)).collect();
            if let (false, Some(model)) = (missing.is_empty(), dtstart_of(comp)?) {
                let values: Vec<String> =
                    missing.iter().map(|k| in_form_of(&new.object.zones, &model, *k).to_ical_value()).collect();
                let mut exdate = model.to_property("EXDATE");
                exdate.value = values.join(",").into();
                ev.properties.push(exdate);
            }
            // iOS shows an invitation only with a PARTSTAT.
            for a in ev.props_mut("ATTENDEE") {
                if a.param("PARTSTAT").is_none() {
                    a.set_param("PARTSTAT", PartStat::NeedsAction.as_str().to_owned());
                }
            }
        }
        for p in ev.properties.iter_mut().filter(|p| p.name == "ATTENDEE" || p.name == "ORGANIZER") {
            strip_scheduling_params(p);
        }
        if let Some(rsvp) = ctx.opts.rsvp {
            for a in ev.props_mut("ATTENDEE") {
                let ours = same_address(&a.value, &ctx.organizer.address)
                    || ctx.user.iter().any(|u| same_address(u, &a.value));
                if !ours {
                    a.set_param("RSVP", if rsvp { "TRUE" } else { "FALSE" });
                }
            }
        }
        if let Some(seq) = bumped
            && sequence_of_event(&ev) < seq
        {
            ev.set_value("SEQUENCE", seq.to_string());
        }
        ev.set_value("DTSTAMP", DateTimeValue::Utc(ctx.opts.now).to_ical_value());
        msg.components.push(ev);
    }
    attach_timezones(&mut msg, new.calendar);
    Ok(msg)
}

/// What a `CANCEL` is about.
#[derive(Clone, Copy)]
enum Cancelled<'c, 'a> {
    /// The object for this attendee: `whole` when the object itself is
    /// cancelled, not only the attendee removed.
    Object { whole: bool },
    /// One overridden instance.
    Instance(&'c Component<'a>),
}

/// A `CANCEL` for one attendee: of the object, or of one overridden instance.
fn cancel_body(
    ctx: &Context<'_, '_, '_>,
    address: &str,
    name: Option<&str>,
    seq: i64,
    what: Cancelled<'_, '_>,
) -> OwnedComponent {
    let instance = match what {
        Cancelled::Instance(ev) => Some(ev),
        Cancelled::Object { .. } => None,
    };
    let mut msg = message_calendar("CANCEL");
    let mut ev = Component::new("VEVENT");
    ev.properties.push(Property::new("UID", ctx.base.object.uid.clone()));
    ev.properties.push(Property::new("DTSTAMP", DateTimeValue::Utc(ctx.opts.now).to_ical_value()));
    ev.properties.push(Property::new("SEQUENCE", seq.to_string()));
    let source = instance.or_else(|| ctx.base.main());
    if let Some(src) = source {
        if let Some(s) = src.value("SUMMARY").or_else(|| ctx.base.main().and_then(|m| m.value("SUMMARY"))) {
            ev.properties.push(Property::new("SUMMARY", s));
        }
        ev.properties.extend(time_lines(src).map(Property::to_static));
        if instance.is_some() {
            if let Some(p) = recurrence_line(src) {
                ev.properties.push(p.to_static());
            }
            ev.properties.push(Property::new("STATUS", "CANCELLED"));
        }
    }
    if let Cancelled::Object { whole: true } = what {
        ev.properties.push(Property::new("STATUS", "CANCELLED"));
    }
    let mut org = Property::new("ORGANIZER", normalize_address(&ctx.organizer.address));
    if let Some(n) = &ctx.organizer.name {
        org.set_param("CN", n.clone());
    }
    ev.properties.push(org);
    let mut att = Property::new("ATTENDEE", normalize_address(address));
    if let Some(n) = name {
        att.set_param("CN", n.to_owned());
    }
    ev.properties.push(att);
    msg.components.push(ev);
    attach_timezones(&mut msg, ctx.base.calendar);
    msg
}

// --------------------------------------------------------------- attendee

/// The answer of one instance: what it was and what it is.
struct Answer {
    key: Option<NaiveDateTime>,
    before: Option<PartStat>,
    after: PartStat,
}

fn partstat_of(ev: &Component<'_>, address: &str) -> Option<PartStat> {
    attendee_line(ev, address).map(|l| l.param("PARTSTAT").map(PartStat::parse).unwrap_or_default())
}

/// What the attendee's answer for the instance `key` was in `old`: the
/// override's, else the master's (the instance followed the series); with no
/// old copy, `NEEDS-ACTION` (nothing was answered yet).
fn answer_before(old: Option<&Side<'_, '_>>, key: Option<NaiveDateTime>, address: &str) -> Option<PartStat> {
    let Some(old) = old else { return Some(PartStat::NeedsAction) };
    if let Some(ev) = old.component(key) {
        return partstat_of(ev, address);
    }
    old.master().and_then(|m| partstat_of(m, address))
}

fn attendee_reply(ctx: &Context<'_, '_, '_>, me: &str) -> Result<Vec<OutgoingMessage>> {
    let base = ctx.base;
    let org_line = base.main().and_then(|m| m.prop("ORGANIZER"));
    if org_line.is_some_and(is_client_scheduled) || ctx.organizer.schedule_agent == ScheduleAgent::Client {
        return Ok(Vec::new());
    }
    if base.is_cancelled() {
        return Ok(Vec::new());
    }
    let forced = ctx
        .new
        .and_then(Side::main)
        .and_then(|m| m.prop("ORGANIZER"))
        .is_some_and(|o| o.param("SCHEDULE-FORCE-SEND").is_some_and(|f| f.eq_ignore_ascii_case("REPLY")));
    let mut answers: Vec<Answer> = Vec::new();
    match ctx.new {
        None => {
            // Deleted: declined, for the series or for each instance the
            // attendee is in.
            let Some(old) = ctx.old else { return Ok(Vec::new()) };
            let keys: Vec<Option<NaiveDateTime>> =
                if old.master().is_some_and(|m| attendee_line(m, me).is_some()) { vec![None] } else { old.keys_of(me) };
            for key in keys {
                let before = old.component(key).and_then(|c| partstat_of(c, me));
                answers.push(Answer { key, before, after: PartStat::Declined });
            }
        }
        Some(new) => {
            for (key, comp) in &new.instances {
                let Some(after) = partstat_of(comp, me) else { continue };
                answers.push(Answer { key: *key, before: answer_before(ctx.old, *key, me), after });
            }
            // Instances the attendee deleted (a new EXDATE) are declined,
            // unless the whole series is.
            let master_after = new.master().and_then(|m| partstat_of(m, me));
            if master_after.as_ref().is_some_and(|p| *p != PartStat::Declined) {
                let before = ctx.old.map(|o| &o.exdates);
                let mut added: Vec<NaiveDateTime> =
                    new.exdates.iter().copied().filter(|at| before.is_none_or(|b| !b.contains(at))).collect();
                added.sort();
                for at in added {
                    let key = Some(at);
                    let was = answer_before(ctx.old, key, me);
                    match answers.iter_mut().find(|a| a.key == key) {
                        Some(a) => a.after = PartStat::Declined,
                        None => answers.push(Answer { key, before: was, after: PartStat::Declined }),
                    }
                }
            }
        }
    }
    let answers: Vec<Answer> = answers.into_iter().filter(|a| forced || a.before.as_ref() != Some(&a.after)).collect();
    if answers.is_empty() {
        return Ok(Vec::new());
    }
    let model = base.instance_model()?;
    let summary = first_summary(base.calendar);
    let name = base.object.attendee(me).and_then(|a| a.name.as_deref().map(str::to_owned));
    let delegation = Delegation::of(base, me);
    let object_seq = base.object.sequence.unwrap_or(0);
    let mut msg = message_calendar("REPLY");
    for a in &answers {
        let mut org = Property::new("ORGANIZER", normalize_address(&ctx.organizer.address));
        if let Some(n) = &ctx.organizer.name {
            org.set_param("CN", n.clone());
        }
        let mut att = Property::new("ATTENDEE", normalize_address(me));
        att.set_param("PARTSTAT", a.after.as_str().to_owned());
        if let Some(n) = &name {
            att.set_param("CN", n.clone());
        }
        let delegating = a.after == PartStat::Delegated && !delegation.to.is_empty();
        if delegating {
            att.params.push(address_param("DELEGATED-TO", &delegation.to));
        }
        if !delegation.from.is_empty() {
            att.params.push(address_param("DELEGATED-FROM", &delegation.from));
        }
        let source = base.component(a.key);
        // The SEQUENCE of the version answered (RFC 5546 2.1.5), as
        // `itip::reply` writes it: the instance's own, else the series'.
        let answered = source.or_else(|| base.master());
        let seq = answered.and_then(|c| super::object::sequence_of(c).ok().flatten()).unwrap_or(object_seq);
        let ev = ReplyEvent {
            uid: &base.object.uid,
            sequence: seq,
            now: ctx.opts.now,
            source,
            instance: a.key.map(|k| (k, model.as_ref())),
            summary: summary.as_deref(),
            organizer: org,
            attendee: att,
        }
        .build(&base.object.zones);
        let mut ev = ev;
        if delegating {
            // RFC 5546 3.2.2.3: the reply names the delegate too.
            for d in &delegation.to {
                let mut line = Property::new("ATTENDEE", normalize_address(d));
                line.set_param("DELEGATED-FROM", normalize_address(me));
                line.set_param("PARTSTAT", PartStat::NeedsAction.as_str().to_owned());
                line.set_param("RSVP", "TRUE");
                ev.properties.push(line);
            }
        }
        msg.components.push(ev);
    }
    attach_timezones(&mut msg, base.calendar);
    let ics = msg.to_ics();
    let reply_to = |recipient: &str, recipient_name: Option<String>| OutgoingMessage {
        uid: base.object.uid.clone(),
        method: "REPLY".to_owned(),
        sender: normalize_address(me),
        sender_name: name.clone(),
        recipient: normalize_address(recipient),
        recipient_name,
        significant_change: true,
        ics: ics.clone(),
    };
    let mut out = vec![reply_to(&ctx.organizer.address, ctx.organizer.name.as_deref().map(str::to_owned))];
    // A delegate's answer goes to the delegator too (RFC 5546 3.2.2.3).
    for d in delegation.from.iter().filter(|d| is_deliverable(d) && !same_address(d, &ctx.organizer.address)) {
        out.push(reply_to(d, base.object.attendee(d).and_then(|a| a.name.as_deref().map(str::to_owned))));
    }
    // The delegator forwards the invitation to each new delegate.
    if let Some(new) = ctx.new
        && answers.iter().any(|a| a.after == PartStat::Delegated)
    {
        let before = ctx.old.and_then(|o| o.object.attendee(me)).map(|a| a.delegated_to.clone()).unwrap_or_default();
        for d in delegation.to.iter().filter(|d| is_deliverable(d) && !before.iter().any(|b| same_address(b, d))) {
            out.push(OutgoingMessage {
                uid: base.object.uid.clone(),
                method: "REQUEST".to_owned(),
                sender: normalize_address(me),
                sender_name: name.clone(),
                recipient: normalize_address(d),
                recipient_name: new.object.attendee(d).and_then(|a| a.name.as_deref().map(str::to_owned)),
                significant_change: true,
                ics: delegated_request(ctx, new, me, d).to_ics(),
            });
        }
    }
    Ok(out)
}

/// The delegation the user's line records in a copy.
struct Delegation {
    /// `DELEGATED-TO` of the user's line: to whom the user delegated.
    to: Vec<String>,
    /// `DELEGATED-FROM` of the user's line: who delegated to the user.
    from: Vec<String>,
}

impl Delegation {
    fn of(side: &Side<'_, '_>, me: &str) -> Delegation {
        let mine = side.object.attendee(me);
        let clean = |list: &[Cow<'_, str>]| {
            list.iter().filter(|a| !same_address(a, me)).map(|a| a.to_string()).collect::<Vec<_>>()
        };
        Delegation {
            to: mine.map(|a| clean(&a.delegated_to)).unwrap_or_default(),
            from: mine.map(|a| clean(&a.delegated_from)).unwrap_or_default(),
        }
    }
}

/// A parameter listing calendar addresses, each quoted by the writer.
fn address_param(name: &str, addresses: &[String]) -> crate::ical::Param<'static> {
    crate::ical::Param {
        name: name.to_owned().into(),
        values: addresses.iter().map(|a| normalize_address(a).into()).collect(),
    }
}

/// The invitation the delegator forwards to the delegate `delegate`
/// (RFC 5546 3.2.2.3): the delegator's copy as a `REQUEST`, the delegator's
/// line `DELEGATED` to the delegate, the delegate's line
/// `DELEGATED-FROM` the delegator and asked to answer.
fn delegated_request(ctx: &Context<'_, '_, '_>, new: &Side<'_, '_>, me: &str, delegate: &str) -> OwnedComponent {
    let mut msg = message_calendar("REQUEST");
    for (_, comp) in &new.instances {
        let mut ev = comp.to_static();
        let mut has_delegate = false;
        for p in ev.properties.iter_mut().filter(|p| p.name == "ATTENDEE" || p.name == "ORGANIZER") {
            strip_scheduling_params(p);
            if p.name == "ATTENDEE" && same_address(&p.value, delegate) {
                has_delegate = true;
                p.set_param("DELEGATED-FROM", normalize_address(me));
                p.set_param("RSVP", "TRUE");
                if p.param("PARTSTAT").is_none() {
                    p.set_param("PARTSTAT", PartStat::NeedsAction.as_str().to_owned());
                }
            }
        }
        if !has_delegate {
            let mut line = Property::new("ATTENDEE", normalize_address(delegate));
            line.set_param("DELEGATED-FROM", normalize_address(me));
            line.set_param("PARTSTAT", PartStat::NeedsAction.as_str().to_owned());
            line.set_param("RSVP", "TRUE");
            ev.properties.push(line);
        }
        ev.set_value("DTSTAMP", DateTimeValue::Utc(ctx.opts.now).to_ical_value());
        msg.components.push(ev);
    }
    attach_timezones(&mut msg, new.calendar);
    msg
}
