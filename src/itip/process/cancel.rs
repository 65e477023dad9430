//! `CANCEL`: the whole object or some of its instances cancelled (RFC 5546 3.2.5).

use super::*;

/// `CANCEL` (RFC 5546 3.2.5): the whole object, or the instances it names.
pub(super) fn cancel(input: &Inbound<'_, '_, '_>) -> Result<ProcessOutcome> {
    let (existing, mut new) = match stored_for_organizer(input) {
        Ok(found) => found,
        Err(outcome) => return Ok(outcome),
    };
    let zones = input.zones();
    let mut index = Index::build(&zones, &new)?;
    let mut excluded = match index.find(None).and_then(|m| new.components.get(m)) {
        Some(master) => exdate_instants(&zones, master),
        None => HashSet::new(),
    };
    let mut applied = false;
    let mut why: Option<Ignored> = None;
    for ev in events(input.message) {
        let version = version_of(ev)?;
        let range =
            recurrence_line(ev).and_then(|p| p.param("RANGE")).is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
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

/// Applied, or ignored and why.
type Applied = std::result::Result<(), Ignored>;

fn mark_cancelled(ev: &mut OwnedComponent, sequence: Option<i64>) {
    ev.set_value("STATUS", "CANCELLED");
    if let Some(s) = sequence {
        ev.set_value("SEQUENCE", s.to_string());
    }
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
        if !has_rules(master) {
            // A single event has one instance: cancelling it cancels the event.
            mark_cancelled(master, version.0);
            return Ok(Ok(()));
        }
        if self.excluded.insert(key) {
            let Some(start) = dtstart_of(master)? else { return Ok(Err(Ignored::NoExistingAppointment)) };
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
        let Some(start) = dtstart_of(master)? else { return self.one(key, version) };
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
