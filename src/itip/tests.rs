//! Scenarios of iTIP processing: each test replays a small exchange between
//! an organizer and an attendee, including the round trips (what we send,
//! our own engine applies).

use super::*;
use crate::ical::{OwnedComponent, ParseOptions, parse_calendar};
use crate::outcome::Ignored;
use chrono::{NaiveDate, NaiveDateTime};
use trust::Author;

fn cal(text: &str) -> OwnedComponent {
    let text = text.replace("\r\n", "\n");
    parse_calendar(&text, &ParseOptions::default()).unwrap().into_owned()
}

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 2, 1).unwrap().and_hms_opt(12, 0, 0).unwrap()
}

fn stored(outcome: ProcessOutcome) -> OwnedComponent {
    match outcome {
        ProcessOutcome::Stored(c) => c,
        other => panic!("expected a stored object, got {other:?}"),
    }
}

fn ignored(outcome: ProcessOutcome) -> Ignored {
    match outcome {
        ProcessOutcome::Ignored(i) => i,
        other => panic!("expected an ignored message, got {other:?}"),
    }
}

fn vevents(c: &OwnedComponent) -> Vec<&OwnedComponent> {
    c.children("VEVENT").collect()
}

fn partstat_of(ev: &OwnedComponent, who: &str) -> Option<String> {
    ev.props("ATTENDEE")
        .find(|a| a.value.eq_ignore_ascii_case(who))
        .map(|a| a.param("PARTSTAT").unwrap_or("NEEDS-ACTION").to_owned())
}

const ORG: &str = "mailto:bob@acme.example";
const AMY: &str = "mailto:amy@crm.example";

/// A weekly series from Bob to Amy and Eve, at `seq`, with extra lines.
fn series(method: Option<&str>, seq: u32, stamp: &str, extra: &str) -> OwnedComponent {
    let method = method.map(|m| format!("METHOD:{m}\n")).unwrap_or_default();
    cal(&format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\n{method}BEGIN:VEVENT\nUID:series-1\nSEQUENCE:{seq}\nDTSTAMP:{stamp}\n\
         DTSTART;TZID=Europe/Berlin:20260302T090000\nDTEND;TZID=Europe/Berlin:20260302T100000\n\
         RRULE:FREQ=WEEKLY;COUNT=10\nSUMMARY:Weekly\nORGANIZER;CN=Bob:{ORG}\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:{AMY}\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:eve@acme.example\n\
         {extra}END:VEVENT\nEND:VCALENDAR\n"
    ))
}

// ----------------------------------------------------------------- REQUEST

#[test]
fn a_new_request_is_stored_without_method_and_with_one_timezone_per_tzid() {
    let msg = cal("BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VTIMEZONE\nTZID:Eastern Standard Time\nEND:VTIMEZONE\n\
         BEGIN:VTIMEZONE\nTZID:Eastern Standard Time\nEND:VTIMEZONE\nBEGIN:VTIMEZONE\nTZID:Eastern Standard Time 1\n\
         END:VTIMEZONE\nBEGIN:VEVENT\nUID:x\nDTSTART;TZID=Eastern Standard Time:20260101T090000\n\
         ORGANIZER:mailto:bob@acme.example\nEND:VEVENT\nEND:VCALENDAR\n");
    let out = stored(process(&msg, None, Some("BOB@acme.example")).unwrap());
    assert!(out.prop("METHOD").is_none());
    let zones: Vec<_> = out.children("VTIMEZONE").filter_map(|z| z.value("TZID")).collect();
    assert_eq!(zones, vec!["Eastern Standard Time", "Eastern Standard Time 1"]);
    // The text written straight from the message is that copy's text.
    assert_eq!(stored_ics(&msg), out.to_ics());
}

#[test]
fn requests_are_checked_for_staleness_and_duplicates() {
    let v2 = series(None, 2, "20260110T100000Z", "");
    let older = series(Some("REQUEST"), 1, "20260120T100000Z", "");
    assert_eq!(ignored(process(&older, Some(&v2), None).unwrap()), Ignored::Stale);
    let older_stamp = series(Some("REQUEST"), 2, "20260101T100000Z", "");
    assert_eq!(ignored(process(&older_stamp, Some(&v2), None).unwrap()), Ignored::Stale);
    let same = series(Some("REQUEST"), 2, "20260110T100000Z", "");
    assert_eq!(ignored(process(&same, Some(&v2), None).unwrap()), Ignored::Duplicate);
    let newer = series(Some("REQUEST"), 3, "20260101T100000Z", "LOCATION:Room 2\n");
    let out = stored(process(&newer, Some(&v2), Some(ORG)).unwrap());
    assert_eq!(vevents(&out)[0].value("LOCATION"), Some("Room 2"));
}

#[test]
fn the_same_revision_with_other_content_is_a_duplicate_not_an_update() {
    // RFC 5546 2.1.5: the same SEQUENCE and DTSTAMP is the same revision;
    // one that says otherwise is not applied (the policy warns about it).
    let v2 = series(None, 2, "20260110T100000Z", "");
    let moved = series(Some("REQUEST"), 2, "20260110T100000Z", "LOCATION:Room 9\n");
    assert_eq!(ignored(process(&moved, Some(&v2), Some(ORG)).unwrap()), Ignored::Duplicate);
    // A later DTSTAMP is a newer revision (Outlook keeps SEQUENCE for minor changes).
    let later = series(Some("REQUEST"), 2, "20260111T100000Z", "LOCATION:Room 9\n");
    assert_eq!(vevents(&stored(process(&later, Some(&v2), Some(ORG)).unwrap()))[0].value("LOCATION"), Some("Room 9"));
    // Without both DTSTAMPs the revisions cannot be told apart: applied.
    let stamped = |c: &OwnedComponent| {
        let mut c = c.clone();
        for ev in c.components.iter_mut() {
            ev.remove_props("DTSTAMP");
        }
        c
    };
    let applied = stored(process(&stamped(&moved), Some(&v2), Some(ORG)).unwrap());
    assert_eq!(vevents(&applied)[0].value("LOCATION"), Some("Room 9"));
    // One overridden instance at the same revision: a duplicate too.
    let stored_series = series(None, 2, "20260110T100000Z", "");
    let one = cal(&format!(
        "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:2\nDTSTAMP:20260110T100000Z\n\
         RECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\nDTSTART;TZID=Europe/Berlin:20260309T110000\n\
         DTEND;TZID=Europe/Berlin:20260309T120000\nORGANIZER:{ORG}\nATTENDEE:{AMY}\nEND:VEVENT\nEND:VCALENDAR\n"
    ));
    assert_eq!(ignored(process(&one, Some(&stored_series), Some(ORG)).unwrap()), Ignored::Duplicate);
}

#[test]
fn only_the_organizer_may_update() {
    let v1 = series(None, 1, "20260110T100000Z", "");
    let v2 = series(Some("REQUEST"), 2, "20260111T100000Z", "");
    assert_eq!(ignored(process(&v2, Some(&v1), Some("mailto:mallory@evil.example")).unwrap()), Ignored::SenderMismatch);
    let hijack = cal(&series(Some("REQUEST"), 2, "20260111T100000Z", "")
        .to_ics()
        .replace("ORGANIZER;CN=Bob:mailto:bob@acme.example", "ORGANIZER:mailto:mallory@evil.example"));
    assert_eq!(
        ignored(process(&hijack, Some(&v1), Some("mailto:mallory@evil.example")).unwrap()),
        Ignored::SenderMismatch
    );
    // An assistant writing for the organizer (SENT-BY) in the organizer's
    // own domain speaks for him only when the e-mail is authenticated...
    let delegated =
        cal(&v2.to_ics().replace("ORGANIZER;CN=Bob:", "ORGANIZER;CN=Bob;SENT-BY=\"mailto:sue@acme.example\":"));
    let sue = |authenticated| Author { from: Some("sue@acme.example"), authenticated };
    assert_eq!(ignored(process(&delegated, Some(&v1), Some("sue@acme.example")).unwrap()), Ignored::SenderMismatch);
    assert_eq!(ignored(process_as(&delegated, Some(&v1), Some(&sue(Some(false)))).unwrap()), Ignored::SenderMismatch);
    assert!(matches!(process_as(&delegated, Some(&v1), Some(&sue(Some(true)))).unwrap(), ProcessOutcome::Stored(_)));
    // ... or when the stored copy already names her.
    let v1_sue =
        cal(&v1.to_ics().replace("ORGANIZER;CN=Bob:", "ORGANIZER;CN=Bob;SENT-BY=\"mailto:sue@acme.example\":"));
    assert!(matches!(process(&v2, Some(&v1_sue), Some("sue@acme.example")).unwrap(), ProcessOutcome::Stored(_)));
    // A stranger naming herself SENT-BY speaks for nobody, authenticated or not.
    let eve = cal(&v2.to_ics().replace("ORGANIZER;CN=Bob:", "ORGANIZER;CN=Bob;SENT-BY=\"mailto:eve@evil.example\":"));
    let from_eve = Author { from: Some("eve@evil.example"), authenticated: Some(true) };
    assert_eq!(ignored(process_as(&eve, Some(&v1), Some(&from_eve)).unwrap()), Ignored::SenderMismatch);
    // An e-mail without a From speaks for nobody.
    let anonymous = Author { from: None, authenticated: None };
    assert_eq!(ignored(process_as(&v2, Some(&v1), Some(&anonymous)).unwrap()), Ignored::SenderMismatch);
}

#[test]
fn an_update_of_one_occurrence_without_master_keeps_the_series() {
    let stored_series = series(
        None,
        1,
        "20260110T100000Z",
        "END:VEVENT\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:1\nRECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\n\
         DTSTART;TZID=Europe/Berlin:20260309T110000\nORGANIZER:mailto:bob@acme.example\n",
    );
    let occurrence = cal("BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:2\n\
         RECURRENCE-ID:20260316T080000Z\nDTSTART;TZID=Europe/Berlin:20260316T140000\n\
         DTEND;TZID=Europe/Berlin:20260316T150000\nORGANIZER:mailto:bob@acme.example\n\
         ATTENDEE:mailto:amy@crm.example\nEND:VEVENT\nEND:VCALENDAR\n");
    let out = stored(process(&occurrence, Some(&stored_series), Some(ORG)).unwrap());
    let evs = vevents(&out);
    assert_eq!(evs.len(), 3, "master, the old override and the new one");
    assert!(evs[0].prop("RRULE").is_some());
    assert_eq!(evs[2].value("DTSTART"), Some("20260316T140000"));
    // The same occurrence sent again with the stored master's id in another zone replaces it.
    let again = cal(&occurrence.to_ics().replace("T140000", "T150000"));
    let out2 = stored(process(&again, Some(&out), Some(ORG)).unwrap());
    assert_eq!(vevents(&out2).len(), 3);
    assert_eq!(vevents(&out2)[2].value("DTSTART"), Some("20260316T150000"));
}

#[test]
fn a_minor_update_keeps_our_answer_markers_and_alarms_a_major_one_asks_again() {
    let ours = series(
        None,
        1,
        "20260110T100000Z",
        "X-INVITELINK-APPOINTMENT:42\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nEND:VALARM\n",
    );
    let ours = cal(&ours.to_ics().replace("ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:", "ATTENDEE;PARTSTAT=ACCEPTED:"));
    let minor = series(Some("REQUEST"), 1, "20260111T100000Z", "DESCRIPTION:agenda attached\n");
    let out = stored(process(&minor, Some(&ours), Some(ORG)).unwrap());
    let ev = vevents(&out)[0];
    assert_eq!(partstat_of(ev, AMY).as_deref(), Some("ACCEPTED"));
    assert_eq!(ev.value("X-INVITELINK-APPOINTMENT"), Some("42"));
    assert_eq!(ev.children("VALARM").count(), 1);
    let major = series(Some("REQUEST"), 2, "20260112T100000Z", "LOCATION:Elsewhere\n");
    let out = stored(process(&major, Some(&ours), Some(ORG)).unwrap());
    assert_eq!(partstat_of(vevents(&out)[0], AMY).as_deref(), Some("NEEDS-ACTION"));
}

#[test]
fn exchange_sequence_is_read_when_sequence_is_missing() {
    let stored_copy =
        cal(&series(None, 2, "20260110T100000Z", "").to_ics().replace("SEQUENCE:2", "X-MICROSOFT-CDO-APPT-SEQUENCE:2"));
    let older = cal(&series(Some("REQUEST"), 1, "20260111T100000Z", "")
        .to_ics()
        .replace("SEQUENCE:1", "X-MICROSOFT-CDO-APPT-SEQUENCE:1"));
    assert_eq!(ignored(process(&older, Some(&stored_copy), None).unwrap()), Ignored::Stale);
    let newer = cal(&series(Some("REQUEST"), 3, "20260111T100000Z", "")
        .to_ics()
        .replace("SEQUENCE:3", "X-MICROSOFT-CDO-APPT-SEQUENCE:3"));
    assert!(matches!(process(&newer, Some(&stored_copy), None).unwrap(), ProcessOutcome::Stored(_)));
}

#[test]
fn proposals_refreshes_publications_and_todos_change_nothing() {
    let stored_copy = series(None, 1, "20260110T100000Z", "");
    for method in ["COUNTER", "DECLINECOUNTER", "REFRESH", "PUBLISH", "X-FOO"] {
        let msg = series(Some(method), 1, "20260111T100000Z", "");
        assert_eq!(ignored(process(&msg, Some(&stored_copy), None).unwrap()), Ignored::Unsupported, "{method}");
    }
    let todo = cal("BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VTODO\nUID:t\nEND:VTODO\nEND:VCALENDAR\n");
    assert_eq!(ignored(process(&todo, None, None).unwrap()), Ignored::Unsupported);
    let no_method = series(None, 1, "20260111T100000Z", "");
    assert_eq!(ignored(process(&no_method, None, None).unwrap()), Ignored::Unsupported);
}

#[test]
fn a_stored_copy_of_another_object_is_an_error() {
    let msg = series(Some("REQUEST"), 1, "20260111T100000Z", "");
    let other = cal("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:other\nEND:VEVENT\nEND:VCALENDAR\n");
    assert_eq!(process(&msg, Some(&other), None).unwrap_err().code, crate::ErrorCode::InvalidContext);
}

// ------------------------------------------------------------------- REPLY

fn reply_msg(extra_line: &str, seq: u32, attendee: &str) -> OwnedComponent {
    cal(&format!(
        "BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:{seq}\n{extra_line}\
         ATTENDEE;PARTSTAT=ACCEPTED:{attendee}\nEND:VEVENT\nEND:VCALENDAR\n"
    ))
}

#[test]
fn an_exchange_reply_without_organizer_is_applied() {
    let copy = series(None, 1, "20260110T100000Z", "");
    let out =
        stored(process(&reply_msg("", 1, "MAILTO:Amy@CRM.example"), Some(&copy), Some("amy@crm.example")).unwrap());
    let ev = vevents(&out)[0];
    let line = ev.props("ATTENDEE").next().unwrap();
    assert_eq!(line.param("PARTSTAT"), Some("ACCEPTED"));
    assert_eq!(line.param("SCHEDULE-STATUS"), Some("2.0"));
    assert!(line.param("RSVP").is_none());
    // The same reply again changes nothing.
    let again = process(&reply_msg("", 1, AMY), Some(&out), Some(AMY)).unwrap();
    assert_eq!(ignored(again), Ignored::Duplicate);
}

#[test]
fn an_answer_recorded_already_is_a_duplicate_whatever_its_schedule_status() {
    // The organizer's copy records Amy's acceptance without a
    // SCHEDULE-STATUS (written by the CRM, not by a reply): the same answer
    // again is nothing new; another answer is applied.
    let copy = series(None, 1, "20260110T100000Z", "").to_ics().replace(
        "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:amy@crm.example",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:amy@crm.example",
    );
    let copy = cal(&copy);
    assert_eq!(ignored(process(&reply_msg("", 1, AMY), Some(&copy), Some(AMY)).unwrap()), Ignored::Duplicate);
    let declined = cal(&reply_msg("", 1, AMY).to_ics().replace("PARTSTAT=ACCEPTED", "PARTSTAT=DECLINED"));
    let out = stored(process(&declined, Some(&copy), Some(AMY)).unwrap());
    assert_eq!(partstat_of(vevents(&out)[0], AMY).as_deref(), Some("DECLINED"));
}

#[test]
fn forged_stale_and_orphan_replies_are_ignored() {
    let copy = series(None, 2, "20260110T100000Z", "");
    let forged = process(&reply_msg("", 2, AMY), Some(&copy), Some("mailto:mallory@evil.example")).unwrap();
    assert_eq!(ignored(forged), Ignored::SenderMismatch);
    let stranger = process(&reply_msg("", 2, "mailto:zed@else.example"), Some(&copy), None).unwrap();
    assert_eq!(ignored(stranger), Ignored::UnknownAttendee);
    let stale = process(&reply_msg("", 1, AMY), Some(&copy), Some(AMY)).unwrap();
    assert_eq!(ignored(stale), Ignored::Stale);
    let orphan = process(&reply_msg("", 2, AMY), None, Some(AMY)).unwrap();
    assert_eq!(ignored(orphan), Ignored::NoExistingAppointment);
    // An assistant answering for Amy (SENT-BY) in her own domain speaks for
    // her when the e-mail is authenticated, not on its own word.
    let assistant =
        cal(&reply_msg("", 2, AMY).to_ics().replace("ATTENDEE;", "ATTENDEE;SENT-BY=\"mailto:tom@crm.example\";"));
    assert_eq!(ignored(process(&assistant, Some(&copy), Some("tom@crm.example")).unwrap()), Ignored::SenderMismatch);
    let tom = Author { from: Some("tom@crm.example"), authenticated: Some(true) };
    assert!(matches!(process_as(&assistant, Some(&copy), Some(&tom)).unwrap(), ProcessOutcome::Stored(_)));
    // Another attendee writing Amy's line with herself as SENT-BY: refused.
    let carol =
        cal(&reply_msg("", 2, AMY).to_ics().replace("ATTENDEE;", "ATTENDEE;SENT-BY=\"mailto:carol@other.example\";"));
    let from_carol = Author { from: Some("carol@other.example"), authenticated: Some(true) };
    assert_eq!(ignored(process_as(&carol, Some(&copy), Some(&from_carol)).unwrap()), Ignored::SenderMismatch);
}

#[test]
fn a_reply_for_one_occurrence_creates_the_override_in_the_organizers_zone() {
    let copy = series(None, 1, "20260110T100000Z", "");
    // 9:00 Berlin is 8:00 UTC in March before the DST change.
    let msg = reply_msg("RECURRENCE-ID:20260309T080000Z\n", 1, AMY);
    let out = stored(process(&msg, Some(&copy), Some(AMY)).unwrap());
    let evs = vevents(&out);
    assert_eq!(evs.len(), 2);
    let rid = evs[1].prop("RECURRENCE-ID").unwrap();
    assert_eq!((rid.value.as_ref(), rid.param("TZID")), ("20260309T090000", Some("Europe/Berlin")));
    assert_eq!(evs[1].value("DTEND"), Some("20260309T100000"));
    assert!(evs[1].prop("RRULE").is_none());
    assert_eq!(partstat_of(evs[1], AMY).as_deref(), Some("ACCEPTED"));
    assert_eq!(partstat_of(evs[0], AMY).as_deref(), Some("NEEDS-ACTION"));
}

// ------------------------------------------------------------------ CANCEL

fn cancel_msg(seq: u32, extra: &str) -> OwnedComponent {
    cal(&format!(
        "BEGIN:VCALENDAR\nMETHOD:CANCEL\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:{seq}\n{extra}\
         ORGANIZER:mailto:bob@acme.example\nATTENDEE:{AMY}\nEND:VEVENT\nEND:VCALENDAR\n"
    ))
}

#[test]
fn cancelling_one_occurrence_excludes_it_and_keeps_the_series() {
    let copy = series(None, 1, "20260110T100000Z", "");
    let msg = cancel_msg(2, "RECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\n");
    let out = stored(process(&msg, Some(&copy), Some(ORG)).unwrap());
    let master = vevents(&out)[0];
    assert!(master.prop("STATUS").is_none());
    let exdate = master.prop("EXDATE").unwrap();
    assert_eq!((exdate.value.as_ref(), exdate.param("TZID")), ("20260309T090000", Some("Europe/Berlin")));
    // A message about one instance leaves the master's SEQUENCE as it was.
    assert_eq!(master.value("SEQUENCE"), Some("1"));
}

#[test]
fn cancelling_an_overridden_occurrence_cancels_the_override() {
    let copy = series(
        None,
        1,
        "20260110T100000Z",
        "END:VEVENT\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:1\nRECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\n\
         DTSTART;TZID=Europe/Berlin:20260309T110000\nORGANIZER:mailto:bob@acme.example\n",
    );
    let out = stored(process(&cancel_msg(2, "RECURRENCE-ID:20260309T080000Z\n"), Some(&copy), None).unwrap());
    let evs = vevents(&out);
    assert!(evs[0].prop("STATUS").is_none());
    assert_eq!(evs[1].value("STATUS"), Some("CANCELLED"));
}

#[test]
fn cancelling_the_object_keeps_it_cancelled_and_refuses_strangers_and_old_news() {
    let copy = series(None, 2, "20260110T100000Z", "");
    let out = stored(process(&cancel_msg(3, ""), Some(&copy), Some(ORG)).unwrap());
    assert_eq!(vevents(&out)[0].value("STATUS"), Some("CANCELLED"));
    assert_eq!(vevents(&out)[0].value("SEQUENCE"), Some("3"));
    assert_eq!(ignored(process(&cancel_msg(1, ""), Some(&copy), Some(ORG)).unwrap()), Ignored::Stale);
    let forged = process(&cancel_msg(3, ""), Some(&copy), Some("mailto:mallory@evil.example")).unwrap();
    assert_eq!(ignored(forged), Ignored::SenderMismatch);
    assert_eq!(ignored(process(&cancel_msg(3, ""), None, None).unwrap()), Ignored::NoExistingAppointment);
}

#[test]
fn cancelling_this_and_future_ends_the_rule() {
    let copy = series(None, 1, "20260110T100000Z", "");
    let msg = cancel_msg(2, "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20260316T090000\n");
    let out = stored(process(&msg, Some(&copy), Some(ORG)).unwrap());
    let rule = vevents(&out)[0].value("RRULE").unwrap().to_owned();
    assert_eq!(rule, "FREQ=WEEKLY;UNTIL=20260316T075959Z");
}

// --------------------------------------------------------------------- ADD

#[test]
fn add_puts_a_new_instance_into_the_series() {
    let copy = series(None, 1, "20260110T100000Z", "");
    let msg = cal("BEGIN:VCALENDAR\nMETHOD:ADD\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:2\n\
         DTSTART;TZID=Europe/Berlin:20260305T150000\nDTEND;TZID=Europe/Berlin:20260305T160000\n\
         ORGANIZER:mailto:bob@acme.example\nATTENDEE:mailto:amy@crm.example\nEND:VEVENT\nEND:VCALENDAR\n");
    let out = stored(process(&msg, Some(&copy), Some(ORG)).unwrap());
    let evs = vevents(&out);
    assert_eq!(evs[0].value("RDATE"), Some("20260305T150000"));
    assert_eq!(evs[0].value("SEQUENCE"), Some("1"), "the master was not re-sent");
    assert_eq!(evs[1].value("SEQUENCE"), Some("2"));
    assert_eq!(evs[1].value("RECURRENCE-ID"), Some("20260305T150000"));
    assert_eq!(ignored(process(&msg, Some(&out), Some(ORG)).unwrap()), Ignored::Duplicate);
}

// ------------------------------------------------------------- round trips

#[test]
fn a_reply_we_write_is_applied_by_our_own_engine() {
    let organizer_copy = series(None, 4, "20260110T100000Z", "");
    let answer = reply(&organizer_copy, AMY, PartStat::Tentative, now()).unwrap();
    let out = stored(process(&answer, Some(&organizer_copy), Some(AMY)).unwrap());
    let ev = vevents(&out)[0];
    assert_eq!(partstat_of(ev, AMY).as_deref(), Some("TENTATIVE"));
    assert_eq!(partstat_of(ev, "mailto:eve@acme.example").as_deref(), Some("NEEDS-ACTION"));
}

#[test]
fn a_request_we_send_creates_the_object_and_its_reply_comes_back() {
    let organizer_copy = series(None, 0, "20260110T100000Z", "");
    let user = vec![ORG.to_owned()];
    let opts = ScheduleOptions { now: now(), rsvp: Some(true) };
    let messages = schedule(None, Some(&organizer_copy), &user, &opts).unwrap();
    assert_eq!(messages.len(), 2);
    let to_amy = messages.iter().find(|m| m.recipient == AMY).unwrap();
    assert_eq!((to_amy.method.as_str(), to_amy.sender.as_str()), ("REQUEST", ORG));
    let request = cal(&to_amy.ics);
    let ev = vevents(&request)[0];
    assert!(ev.props("ATTENDEE").all(|a| a.param("RSVP") == Some("TRUE")));
    assert_eq!(ev.value("DTSTAMP"), Some("20260201T120000Z"));
    // Amy's side: the request creates her copy...
    let amys_copy = stored(process(&request, None, Some(&to_amy.sender)).unwrap());
    assert!(amys_copy.prop("METHOD").is_none());
    // ...she accepts; schedule() on her side writes the REPLY...
    let accepted = cal(&amys_copy
        .to_ics()
        .replace("PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:amy", "PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:amy"));
    let replies = schedule(Some(&amys_copy), Some(&accepted), &[AMY.to_owned()], &opts).unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!((replies[0].method.as_str(), replies[0].recipient.as_str()), ("REPLY", ORG));
    // ...which Bob's engine applies.
    let bobs = stored(process(&cal(&replies[0].ics), Some(&organizer_copy), Some(AMY)).unwrap());
    assert_eq!(partstat_of(vevents(&bobs)[0], AMY).as_deref(), Some("ACCEPTED"));
}

#[test]
fn a_significant_update_raises_sequence_once_and_the_attendee_applies_it() {
    let v1 = series(None, 1, "20260110T100000Z", "");
    let moved = cal(&v1.to_ics().replace("T090000", "T140000").replace("T100000\r\n", "T150000\r\n"));
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let messages = schedule(Some(&v1), Some(&moved), &[ORG.to_owned()], &opts).unwrap();
    let to_amy = messages.iter().find(|m| m.recipient == AMY).unwrap();
    assert!(to_amy.significant_change);
    let request = cal(&to_amy.ics);
    assert_eq!(vevents(&request)[0].value("SEQUENCE"), Some("2"));
    let amys = stored(process(&request, Some(&v1), Some(ORG)).unwrap());
    assert_eq!(vevents(&amys)[0].value("DTSTART"), Some("20260302T140000"));
}

#[test]
fn a_cancelled_occurrence_is_announced_with_its_own_cancel() {
    let v1 = series(
        None,
        1,
        "20260110T100000Z",
        "END:VEVENT\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:1\nRECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\n\
         DTSTART;TZID=Europe/Berlin:20260309T090000\nDTEND;TZID=Europe/Berlin:20260309T100000\n\
         ORGANIZER;CN=Bob:mailto:bob@acme.example\nATTENDEE:mailto:amy@crm.example\n",
    );
    let v2 = cal(&v1.to_ics().replace(
        "ATTENDEE:mailto:amy@crm.example\r\nEND:VEVENT",
        "ATTENDEE:mailto:amy@crm.example\r\nSTATUS:CANCELLED\r\nEND:VEVENT",
    ));
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let messages = schedule(Some(&v1), Some(&v2), &[ORG.to_owned()], &opts).unwrap();
    let to_amy: Vec<_> = messages.iter().filter(|m| m.recipient == AMY).collect();
    assert_eq!(to_amy.iter().map(|m| m.method.as_str()).collect::<Vec<_>>(), vec!["REQUEST", "CANCEL"]);
    let cancel = cal(&to_amy[1].ics);
    let ev = vevents(&cancel)[0];
    assert!(ev.prop("RECURRENCE-ID").is_some());
    assert_eq!(ev.value("SEQUENCE"), Some("2"));
    // Amy's engine cancels that occurrence only.
    let amys = stored(process(&cancel, Some(&v1), Some(ORG)).unwrap());
    let evs = vevents(&amys);
    assert!(evs[0].prop("STATUS").is_none());
    assert_eq!(evs[1].value("STATUS"), Some("CANCELLED"));
}

#[test]
fn large_objects_stay_fast() {
    // 15,000 attendees in one request, then 2,000 per-instance replies
    // against 2,000 overrides: every lookup is indexed, so this is quick.
    let mut text = String::from(
        "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:big\nSEQUENCE:1\n\
        DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY\nORGANIZER:mailto:bob@acme.example\n",
    );
    for i in 0..15_000 {
        text.push_str(&format!("ATTENDEE:mailto:a{i}@x.example\n"));
    }
    text.push_str("END:VEVENT\n");
    for d in 0..2_000u32 {
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap() + chrono::TimeDelta::days(i64::from(d));
        text.push_str(&format!(
            "BEGIN:VEVENT\nUID:big\nSEQUENCE:1\nRECURRENCE-ID:{0}T090000Z\nDTSTART:{0}T100000Z\n\
             ORGANIZER:mailto:bob@acme.example\nATTENDEE:mailto:a1@x.example\nEND:VEVENT\n",
            day.format("%Y%m%d")
        ));
    }
    text.push_str("END:VCALENDAR\n");
    let started = std::time::Instant::now();
    let msg = cal(&text);
    let copy = stored(process(&msg, None, None).unwrap());
    let again = stored(process(&cal(&text.replace("SEQUENCE:1", "SEQUENCE:2")), Some(&copy), None).unwrap());
    let mut reply_text = String::from("BEGIN:VCALENDAR\nMETHOD:REPLY\n");
    for d in 0..2_000u32 {
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap() + chrono::TimeDelta::days(i64::from(d));
        reply_text.push_str(&format!(
            "BEGIN:VEVENT\nUID:big\nSEQUENCE:2\nRECURRENCE-ID:{}T090000Z\nATTENDEE;PARTSTAT=ACCEPTED:mailto:a1@x.example\nEND:VEVENT\n",
            day.format("%Y%m%d")
        ));
    }
    reply_text.push_str("END:VCALENDAR\n");
    let replied = stored(process(&cal(&reply_text), Some(&again), None).unwrap());
    assert_eq!(vevents(&replied).len(), 2_001);
    let elapsed = started.elapsed();
    println!("large objects: {elapsed:?}");
    assert!(elapsed.as_secs() < 30, "took {elapsed:?}");
}

#[test]
fn the_messages_of_one_change_are_bounded() {
    let mut text = String::from(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:huge\nDTSTART:20260101T090000Z\n\
        ORGANIZER:mailto:bob@acme.example\nDESCRIPTION:",
    );
    text.push_str(&"x".repeat(600_000));
    text.push('\n');
    for i in 0..150 {
        text.push_str(&format!("ATTENDEE:mailto:a{i}@x.example\n"));
    }
    text.push_str("END:VEVENT\nEND:VCALENDAR\n");
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let err = schedule(None, Some(&cal(&text)), &[ORG.to_owned()], &opts).unwrap_err();
    assert_eq!(err.code, crate::ErrorCode::TooLarge);
}

// ------------------------------------------------ fidelity (RFC 5546, 6638)

/// The organizer's copy of a one-off meeting, renumbered by the organizer's
/// server to `seq`, at `start` (UTC).
fn meeting(seq: u32, start: &str, end: &str) -> OwnedComponent {
    cal(&format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:040000008200E00074C5B7101A82E008-1\nSEQUENCE:{seq}\n\
         DTSTAMP:20260110T100000Z\nDTSTART:{start}\nDTEND:{end}\nSUMMARY:Review\nORGANIZER;CN=Bob:{ORG}\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:{AMY}\nEND:VEVENT\nEND:VCALENDAR\n"
    ))
}

/// A REPLY as Exchange writes it: SEQUENCE 0 (its own numbering), the
/// Exchange sequence property, the time it answers, no RSVP.
fn exchange_reply(start: &str, end: &str) -> OwnedComponent {
    cal(&format!(
        "BEGIN:VCALENDAR\nMETHOD:REPLY\nPRODID:Microsoft Exchange Server 2010\nVERSION:2.0\nBEGIN:VEVENT\n\
         ATTENDEE;PARTSTAT=ACCEPTED;CN=Amy:{AMY}\nUID:040000008200E00074C5B7101A82E008-1\nSEQUENCE:0\n\
         DTSTART:{start}\nDTEND:{end}\nDTSTAMP:20260111T080000Z\nSUMMARY;LANGUAGE=en-US:Accepted: Review\n\
         X-MICROSOFT-CDO-APPT-SEQUENCE:0\nX-MICROSOFT-CDO-OWNERAPPTID:-1\nEND:VEVENT\nEND:VCALENDAR\n"
    ))
}

#[test]
fn a_renumbered_reply_for_the_same_time_is_applied_and_one_for_a_moved_meeting_is_stale() {
    let copy = meeting(3, "20260302T090000Z", "20260302T100000Z");
    // Exchange answered the version it holds; the time is still the same.
    let out = stored(process(&exchange_reply("20260302T090000Z", "20260302T100000Z"), Some(&copy), Some(AMY)).unwrap());
    assert_eq!(partstat_of(vevents(&out)[0], AMY).as_deref(), Some("ACCEPTED"));
    // The organizer has moved the meeting since: the answer is to the old time.
    let moved = meeting(4, "20260303T090000Z", "20260303T100000Z");
    let old_answer = exchange_reply("20260302T090000Z", "20260302T100000Z");
    assert_eq!(ignored(process(&old_answer, Some(&moved), Some(AMY)).unwrap()), Ignored::Stale);
    // A renumbered reply that does not say when it is answers nothing current.
    let bare =
        cal(&old_answer.to_ics().replace("DTSTART:20260302T090000Z\r\n", "").replace("DTEND:20260302T100000Z\r\n", ""));
    assert_eq!(ignored(process(&bare, Some(&copy), Some(AMY)).unwrap()), Ignored::Stale);
}

#[test]
fn both_reply_writers_carry_the_sequence_of_the_version_answered() {
    // Amy's copy: the series at SEQUENCE 2, one override at SEQUENCE 5.
    let invitation = series(
        Some("REQUEST"),
        2,
        "20260110T100000Z",
        &format!(
            "END:VEVENT\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:5\nDTSTAMP:20260110T100000Z\n\
             RECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\nDTSTART;TZID=Europe/Berlin:20260309T110000\n\
             DTEND;TZID=Europe/Berlin:20260309T120000\nSUMMARY:Weekly\nORGANIZER;CN=Bob:{ORG}\n\
             ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:{AMY}\n"
        ),
    );
    let by_reply = reply(&invitation, AMY, PartStat::Accepted, now()).unwrap();
    let mut copy = invitation.clone();
    copy.remove_props("METHOD");
    let mut answered = copy.clone();
    for ev in answered.components.iter_mut().filter(|c| c.is("VEVENT")) {
        for a in ev.props_mut("ATTENDEE") {
            a.set_param("PARTSTAT", "ACCEPTED");
        }
    }
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let sent = schedule(Some(&copy), Some(&answered), &[AMY.to_owned()], &opts).unwrap();
    assert_eq!(sent.len(), 1);
    let by_schedule = cal(&sent[0].ics);
    let sequences = |c: &OwnedComponent| -> Vec<(Option<String>, Option<String>)> {
        vevents(c)
            .iter()
            .map(|e| (e.value("RECURRENCE-ID").map(str::to_owned), e.value("SEQUENCE").map(str::to_owned)))
            .collect()
    };
    assert_eq!(sequences(&by_reply), sequences(&by_schedule));
    assert_eq!(
        sequences(&by_reply),
        vec![(None, Some("2".to_owned())), (Some("20260309T090000".to_owned()), Some("5".to_owned()))]
    );
}

/// Bob's copy of a meeting with Amy and Carol (organizer side).
fn organized(extra_org: &str, carol: &str) -> OwnedComponent {
    cal(&format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:org-1\nSEQUENCE:0\nDTSTAMP:20260110T100000Z\n\
         DTSTART:20260302T090000Z\nDTEND:20260302T100000Z\nSUMMARY:Plan\nORGANIZER;CN=Bob{extra_org}:{ORG}\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:{AMY}\n{carol}END:VEVENT\nEND:VCALENDAR\n"
    ))
}

#[test]
fn only_a_cancel_of_the_whole_object_carries_status_cancelled() {
    let carol = "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:carol@partner.example\n";
    let before = organized("", carol);
    let opts = ScheduleOptions { now: now(), rsvp: None };
    // Carol is uninvited: her CANCEL says nothing about the meeting's status.
    let without_carol = organized("", "");
    let sent = schedule(Some(&before), Some(&without_carol), &[ORG.to_owned()], &opts).unwrap();
    let to_carol = sent.iter().find(|m| m.recipient == "mailto:carol@partner.example").unwrap();
    assert_eq!(to_carol.method, "CANCEL");
    assert!(vevents(&cal(&to_carol.ics))[0].prop("STATUS").is_none());
    // The meeting is deleted: every CANCEL says STATUS:CANCELLED.
    let sent = schedule(Some(&before), None, &[ORG.to_owned()], &opts).unwrap();
    assert_eq!(sent.len(), 2);
    for m in &sent {
        assert_eq!(vevents(&cal(&m.ics))[0].value("STATUS"), Some("CANCELLED"), "to {}", m.recipient);
    }
}

#[test]
fn an_instance_request_leaves_the_master_sequence_alone() {
    let copy = series(None, 1, "20260110T100000Z", "");
    let one = cal(&format!(
        "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:series-1\nSEQUENCE:3\nDTSTAMP:20260111T100000Z\n\
         RECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\nDTSTART;TZID=Europe/Berlin:20260309T140000\n\
         DTEND;TZID=Europe/Berlin:20260309T150000\nORGANIZER;CN=Bob:{ORG}\nATTENDEE:{AMY}\nEND:VEVENT\nEND:VCALENDAR\n"
    ));
    let out = stored(process(&one, Some(&copy), Some(ORG)).unwrap());
    let evs = vevents(&out);
    assert_eq!(evs[0].value("SEQUENCE"), Some("1"));
    assert_eq!(evs[1].value("SEQUENCE"), Some("3"));
}

#[test]
fn a_client_scheduled_organizer_gets_nothing_sent_and_client_flags_are_not_forwarded() {
    let carol = "ATTENDEE;SCHEDULE-AGENT=CLIENT;PARTSTAT=NEEDS-ACTION:mailto:carol@partner.example\n";
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let by_client = organized(";SCHEDULE-AGENT=CLIENT", carol);
    assert!(schedule(None, Some(&by_client), &[ORG.to_owned()], &opts).unwrap().is_empty());
    assert!(schedule(None, Some(&by_client), &[AMY.to_owned()], &opts).unwrap().is_empty());
    // Server-scheduled: Amy's REQUEST lists Carol without her SCHEDULE-AGENT.
    let sent = schedule(None, Some(&organized("", carol)), &[ORG.to_owned()], &opts).unwrap();
    assert_eq!(sent.len(), 1, "Carol's own client invites her");
    assert!(!sent[0].ics.contains("SCHEDULE-AGENT"), "{}", sent[0].ics);
}

#[test]
fn objects_that_cannot_be_scheduled_are_refused_before_anything_is_sent() {
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let good = organized("", "").to_ics();
    let event = good.split("BEGIN:VEVENT").nth(1).unwrap().split("END:VCALENDAR").next().unwrap().to_owned();
    let two_masters = good.replace("END:VCALENDAR", &format!("BEGIN:VEVENT{event}END:VCALENDAR"));
    let override_line = "RECURRENCE-ID:20260302T090000Z\r\n";
    let with_rid =
        format!("BEGIN:VEVENT{}", event.replacen("SEQUENCE:0\r\n", &format!("SEQUENCE:0\r\n{override_line}"), 1));
    let two_overrides = good.replace("END:VCALENDAR", &format!("{with_rid}{with_rid}END:VCALENDAR"));
    let todo = good.replace("END:VCALENDAR", "BEGIN:VTODO\r\nUID:org-1\r\nSUMMARY:Plan\r\nEND:VTODO\r\nEND:VCALENDAR");
    for (what, text) in [("two masters", two_masters), ("one instance twice", two_overrides), ("a VTODO", todo)] {
        let err = schedule(None, Some(&cal(&text)), &[ORG.to_owned()], &opts).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidSchedulingObject, "{what}");
        assert!(err.message.contains("cannot be scheduled"), "{what}: {}", err.message);
    }
}

#[test]
fn percent_encoded_addresses_are_decoded_and_invalid_ones_never_receive() {
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let people = "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol%40partner.example\n\
                  ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:not%20an%20address\n\
                  ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:dan%40x.example%2C%20eve%40evil.example\n\
                  ATTENDEE;PARTSTAT=NEEDS-ACTION:urn:uuid:6b1c-42\n";
    let sent = schedule(None, Some(&organized("", people)), &[ORG.to_owned()], &opts).unwrap();
    let recipients: Vec<&str> = sent.iter().map(|m| m.recipient.as_str()).collect();
    assert_eq!(recipients, vec![AMY, "mailto:carol@partner.example"]);
    // The decoded address is the same calendar user for processing too.
    let stored_copy = organized("", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol%40partner.example\n");
    let answer = cal(&format!(
        "BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:org-1\nSEQUENCE:0\nDTSTAMP:20260111T100000Z\n\
         DTSTART:20260302T090000Z\nORGANIZER:{ORG}\nATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@partner.example\n\
         END:VEVENT\nEND:VCALENDAR\n"
    ));
    let out = stored(process(&answer, Some(&stored_copy), Some("carol@partner.example")).unwrap());
    assert_eq!(partstat_of(vevents(&out)[0], "mailto:carol%40partner.example").as_deref(), Some("ACCEPTED"));
}

// ------------------------------------------------------------- delegation

const ED: &str = "mailto:ed@crm.example";

/// Marks `who`'s line in every VEVENT with the given parameters (set) and
/// appends `extra` lines to every VEVENT.
fn edited(c: &OwnedComponent, who: &str, params: &[(&str, &str)], extra: &[&str]) -> OwnedComponent {
    let mut c = c.clone();
    for ev in c.components.iter_mut().filter(|x| x.is("VEVENT")) {
        for a in ev.props_mut("ATTENDEE").filter(|a| a.value.eq_ignore_ascii_case(who)) {
            for (k, v) in params {
                a.set_param(k, (*v).to_owned());
            }
        }
        for line in extra {
            let parsed = cal(&format!("BEGIN:VCALENDAR\nBEGIN:VEVENT\n{line}\nEND:VEVENT\nEND:VCALENDAR\n"));
            ev.properties.push(parsed.children("VEVENT").next().unwrap().prop("ATTENDEE").unwrap().clone());
        }
    }
    c
}

#[test]
fn delegation_round_trip_through_schedule_reply_and_process() {
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let bob = [ORG.to_owned()];
    let amy = [AMY.to_owned()];
    let ed = [ED.to_owned()];
    // Bob invites Amy; Amy's CRM stores the invitation.
    let bobs = organized("", "");
    let to_amy = schedule(None, Some(&bobs), &bob, &opts).unwrap();
    let amys = stored(process(&cal(&to_amy[0].ics), None, Some("bob@acme.example")).unwrap());
    // Amy delegates to Ed, as Apple Calendar writes it in her copy.
    let delegated = edited(
        &amys,
        AMY,
        &[("PARTSTAT", "DELEGATED"), ("DELEGATED-TO", ED)],
        &[
            "ATTENDEE;CN=Ed;DELEGATED-FROM=\"mailto:amy@crm.example\";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:ed@crm.example",
        ],
    );
    let sent = schedule(Some(&amys), Some(&delegated), &amy, &opts).unwrap();
    let kinds: Vec<(&str, &str)> = sent.iter().map(|m| (m.method.as_str(), m.recipient.as_str())).collect();
    assert_eq!(kinds, vec![("REPLY", ORG), ("REQUEST", ED)]);
    let reply_to_bob = cal(&sent[0].ics);
    let lines: Vec<String> = vevents(&reply_to_bob)[0].props("ATTENDEE").map(|a| a.value.to_string()).collect();
    assert_eq!(lines, vec![AMY.to_owned(), ED.to_owned()]);
    // Bob's CRM records both: Amy delegated, Ed invited by her.
    let bobs_after = stored(process(&reply_to_bob, Some(&bobs), Some("amy@crm.example")).unwrap());
    let ev = vevents(&bobs_after)[0];
    assert_eq!(partstat_of(ev, AMY).as_deref(), Some("DELEGATED"));
    let ed_line = ev.props("ATTENDEE").find(|a| a.value.eq_ignore_ascii_case(ED)).unwrap();
    assert_eq!(ed_line.param("DELEGATED-FROM").map(crate::ical::value::email_of).as_deref(), Some("amy@crm.example"));
    // Ed's CRM takes the REQUEST Amy forwarded: a valid invitation.
    let eds = stored(process(&cal(&sent[1].ics), None, Some("amy@crm.example")).unwrap());
    // ... but not the same REQUEST from anyone else.
    assert_eq!(
        ignored(process(&cal(&sent[1].ics), None, Some("mallory@evil.example")).unwrap()),
        Ignored::SenderMismatch
    );
    // Ed accepts: the REPLY goes to Bob, with a copy to Amy.
    let accepted = edited(&eds, ED, &[("PARTSTAT", "ACCEPTED")], &[]);
    let sent = schedule(Some(&eds), Some(&accepted), &ed, &opts).unwrap();
    let kinds: Vec<(&str, &str)> = sent.iter().map(|m| (m.method.as_str(), m.recipient.as_str())).collect();
    assert_eq!(kinds, vec![("REPLY", ORG), ("REPLY", AMY)]);
    let from_ed = cal(&sent[0].ics);
    assert_eq!(
        vevents(&from_ed)[0]
            .prop("ATTENDEE")
            .and_then(|a| a.param("DELEGATED-FROM"))
            .map(crate::ical::value::email_of)
            .as_deref(),
        Some("amy@crm.example")
    );
    let bobs_final = stored(process(&from_ed, Some(&bobs_after), Some("ed@crm.example")).unwrap());
    let ev = vevents(&bobs_final)[0];
    assert_eq!(partstat_of(ev, ED).as_deref(), Some("ACCEPTED"));
    assert_eq!(partstat_of(ev, AMY).as_deref(), Some("DELEGATED"));
}

#[test]
fn a_forwarded_request_is_trusted_only_when_both_delegation_lines_agree() {
    let base = organized("", "");
    let with = |amy_params: &[(&str, &str)], ed_line: &str| {
        let mut c = edited(&base, AMY, amy_params, &[ed_line]);
        c.properties.push(crate::ical::Property::new("METHOD", "REQUEST"));
        c
    };
    let ed_from_amy = "ATTENDEE;DELEGATED-FROM=\"mailto:amy@crm.example\";RSVP=TRUE:mailto:ed@crm.example";
    let ed_plain = "ATTENDEE;RSVP=TRUE:mailto:ed@crm.example";
    let amy_delegated: &[(&str, &str)] = &[("PARTSTAT", "DELEGATED"), ("DELEGATED-TO", ED)];
    let ok = with(amy_delegated, ed_from_amy);
    assert!(matches!(process(&ok, None, Some("amy@crm.example")).unwrap(), ProcessOutcome::Stored(_)));
    // Amy's line does not delegate, or Ed's does not name her: refused.
    for bad in [with(&[], ed_from_amy), with(amy_delegated, ed_plain)] {
        assert_eq!(ignored(process(&bad, None, Some("amy@crm.example")).unwrap()), Ignored::SenderMismatch);
    }
    // A delegator changes nothing stored: an update from Amy is refused.
    let stored_copy = stored(process(&ok, None, Some("bob@acme.example")).unwrap());
    let update = cal(&ok.to_ics().replace("SEQUENCE:0", "SEQUENCE:1").replace("SUMMARY:Plan", "SUMMARY:Moved"));
    assert_eq!(
        ignored(process(&update, Some(&stored_copy), Some("amy@crm.example")).unwrap()),
        Ignored::SenderMismatch
    );
    // An unauthenticated e-mail from the delegator vouches for nothing.
    let unverified = Author { from: Some("amy@crm.example"), authenticated: Some(false) };
    assert_eq!(ignored(process_as(&ok, None, Some(&unverified)).unwrap()), Ignored::SenderMismatch);
}

#[test]
fn a_renumbering_organizer_still_takes_the_answers_round_trip() {
    let opts = ScheduleOptions { now: now(), rsvp: None };
    let bobs = organized("", "");
    let to_amy = schedule(None, Some(&bobs), &[ORG.to_owned()], &opts).unwrap();
    let amys = stored(process(&cal(&to_amy[0].ics), None, Some("bob@acme.example")).unwrap());
    // Bob's server renumbers its copy (SEQUENCE 3) without moving anything.
    let renumbered = cal(&bobs.to_ics().replace("SEQUENCE:0", "SEQUENCE:3"));
    // Amy answers through both writers; both answers are taken.
    let by_reply = reply(&amys, AMY, PartStat::Accepted, now()).unwrap();
    let out = stored(process(&by_reply, Some(&renumbered), Some("amy@crm.example")).unwrap());
    assert_eq!(partstat_of(vevents(&out)[0], AMY).as_deref(), Some("ACCEPTED"));
    let tentative = edited(&amys, AMY, &[("PARTSTAT", "TENTATIVE")], &[]);
    let by_schedule = schedule(Some(&amys), Some(&tentative), &[AMY.to_owned()], &opts).unwrap();
    let out = stored(process(&cal(&by_schedule[0].ics), Some(&out), Some("amy@crm.example")).unwrap());
    assert_eq!(partstat_of(vevents(&out)[0], AMY).as_deref(), Some("TENTATIVE"));
    // Bob moves the meeting; an answer to the old time is stale.
    let moved = cal(&out.to_ics().replace("SEQUENCE:3", "SEQUENCE:4").replace("T090000Z", "T130000Z"));
    assert_eq!(ignored(process(&by_reply, Some(&moved), Some("amy@crm.example")).unwrap()), Ignored::Stale);
}

#[test]
fn a_thunderbird_delegation_reply_is_recorded_at_the_organizer() {
    let bobs = organized("", "");
    // As Thunderbird (Lightning) writes the delegator's answer.
    let reply = cal(
        "BEGIN:VCALENDAR\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\nVERSION:2.0\nMETHOD:REPLY\n\
         BEGIN:VEVENT\nCREATED:20260110T100000Z\nLAST-MODIFIED:20260111T090000Z\nDTSTAMP:20260111T090000Z\n\
         UID:org-1\nSUMMARY:Plan\nORGANIZER;CN=Bob:mailto:bob@acme.example\n\
         ATTENDEE;RSVP=TRUE;PARTSTAT=DELEGATED;ROLE=REQ-PARTICIPANT;DELEGATED-TO=\"mailto:ed@crm.example\":mailto:amy@crm.example\n\
         ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;DELEGATED-FROM=\"mailto:amy@crm.example\":mailto:ed@crm.example\n\
         DTSTART:20260302T090000Z\nDTEND:20260302T100000Z\nSEQUENCE:0\nX-MOZ-SEND-INVITATIONS:TRUE\n\
         END:VEVENT\nEND:VCALENDAR\n",
    );
    let out = stored(process(&reply, Some(&bobs), Some("amy@crm.example")).unwrap());
    let ev = vevents(&out)[0];
    assert_eq!(partstat_of(ev, AMY).as_deref(), Some("DELEGATED"));
    assert_eq!(partstat_of(ev, ED).as_deref(), Some("NEEDS-ACTION"));
    // Ed sending the same message speaks only for his own line, which Bob's
    // copy does not know yet: nothing is recorded, Amy's answer least of all.
    assert_eq!(ignored(process(&reply, Some(&bobs), Some("ed@crm.example")).unwrap()), Ignored::UnknownAttendee);
}
