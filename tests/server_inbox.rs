#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The inbox over HTTP: invitations from a known contact and from an unknown
//! sender, recurring invitations, replies (genuine and forged) to follow-ups
//! organized in the CRM, updates, cancellations, duplicates, preferences, and
//! the answers of the inbox's buttons.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::*;

/// An iMIP e-mail around one VEVENT.
fn email(from: &str, method: &str, message_id: &str, event: &str) -> String {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Acme//Mail//EN\r\nMETHOD:{method}\r\nBEGIN:VEVENT\r\n{event}END:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    format!(
        "From: {from}\r\nTo: someone@ourcompany.example\r\nSubject: Meeting\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nYou are invited.\r\n--b1\r\n\
         Content-Type: text/calendar; charset=utf-8; method={method}\r\n\r\n{ics}\r\n--b1--\r\n"
    )
}

fn invitation(uid: &str, sequence: u32, start: &str, extra: &str) -> String {
    format!(
        "UID:{uid}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:2029120{sequence}T120000Z\r\nDTSTART:{start}\r\nDTEND:{}\r\n\
         SUMMARY:Quarterly review\r\nLOCATION:Acme HQ\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
         ATTENDEE;CN=Cara Dahl;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:cara@ourcompany.example\r\n\
         ATTENDEE;CN=Alice Ash;PARTSTAT=ACCEPTED:mailto:alice@acme.example\r\n{extra}",
        start.replace("T09", "T10")
    )
}

fn effects(decision: &Value) -> Vec<String> {
    decision["effects"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

fn diary(c: &Client) -> Value {
    c.get(&format!("/api/diary?from={}&until={}", "2029-12-01T00:00:00Z", "2030-12-01T00:00:00Z")).json
}

#[test]
fn invitation_from_a_known_contact_update_cancel_and_duplicate() {
    let (server, _db) = TestServer::demo("inbox-known");
    let (cara, _) = server.sign_in(CARA.0, CARA.1);
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let bob = id_where(&cara.get("/api/persons?q=bob").json, "name", "Bob Berg");

    let msg = email(
        "Bob Berg <bob@acme.example>",
        "REQUEST",
        "inv-1@acme.example",
        &invitation("q1@acme.example", 0, "20300110T090000Z", ""),
    );
    // Only Cara (or an administrator) can deliver to Cara's mailbox.
    assert_eq!(
        ben.post_raw("/api/inbox?mailbox=cara@ourcompany.example", "message/rfc822", msg.as_bytes()).status,
        403
    );
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let d = &r.json["decision"];
    assert_eq!(d["kind"], "invitation");
    assert!(d["ignored"].is_null(), "{d}");
    assert_eq!(effects(d), ["create_appointment"], "{d}");
    assert_eq!(d["display"], "invitation");
    assert!(d["buttons"]["accept"].as_bool().unwrap());
    assert!(!d["reasons"].as_array().unwrap().is_empty());
    assert_eq!(r.json["duplicate"], false);
    let appointment_id = r.json["appointment_id"].as_str().unwrap().to_owned();

    // A tentative appointment in Cara's diary, linked to Bob and Acme, with the other attendee matched.
    let entry = diary(&cara)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["appointment_id"] == appointment_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["status"], "tentative");
    assert_eq!(entry["start"], "2030-01-10T09:00:00Z");
    assert_eq!(entry["title"], "Quarterly review");
    let activities = cara.get(&format!("/api/persons/{bob}/activities")).json;
    assert!(activities.as_array().unwrap().iter().any(|a| a["id"] == appointment_id.as_str()));
    let alice = id_where(&cara.get("/api/persons?q=alice").json, "name", "Alice Ash");
    let activities = cara.get(&format!("/api/persons/{alice}/activities")).json;
    assert!(
        activities
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == appointment_id.as_str() && a["participant_status"] == "accepted")
    );

    // The same message again changes nothing.
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json["duplicate"], true);
    assert_eq!(r.json["appointment_id"], appointment_id.as_str());
    let count = diary(&cara).as_array().unwrap().iter().filter(|e| e["title"] == "Quarterly review").count();
    assert_eq!(count, 1);

    // Accept and notify: a REPLY to Bob goes to the outbox and is returned.
    let r = cara.post("/api/inbox/actions", &json!({"message": msg, "action": {"type": "accept", "notify": true}}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["appointment_id"], appointment_id.as_str());
    let reply = &r.json["outbox"][0];
    assert_eq!(reply["method"], "REPLY");
    assert_eq!(reply["recipient"], "bob@acme.example");
    assert_eq!(reply["sender"], "cara@ourcompany.example");
    assert!(reply["ics"].as_str().unwrap().contains("PARTSTAT=ACCEPTED"));
    let entry = diary(&cara)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["appointment_id"] == appointment_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["status"], "accepted");
    // Accept without notifying: no REPLY.
    let r = cara.post("/api/inbox/actions", &json!({"message": msg, "action": {"type": "accept", "notify": false}}));
    assert_eq!(r.json["outbox"].as_array().unwrap().len(), 0, "{}", r.json);

    // The organizer moves it (SEQUENCE 1): applied; the accepted appointment is moved and tentative again.
    let moved = email(
        "bob@acme.example",
        "REQUEST",
        "inv-2@acme.example",
        &invitation("q1@acme.example", 1, "20300111T090000Z", ""),
    );
    let r = cara.post_raw("/api/inbox", "message/rfc822", moved.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["decision"]["kind"], "update");
    assert!(effects(&r.json["decision"]).contains(&"update_appointment".to_owned()), "{}", r.json);
    let entry = diary(&cara)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["appointment_id"] == appointment_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["start"], "2030-01-11T09:00:00Z");
    assert_eq!(entry["status"], "tentative");

    // An older update is stale and changes nothing.
    let stale = email(
        "bob@acme.example",
        "REQUEST",
        "inv-3@acme.example",
        &invitation("q1@acme.example", 0, "20300112T090000Z", ""),
    );
    let r = cara.post_raw("/api/inbox", "message/rfc822", stale.as_bytes());
    assert_eq!(r.json["decision"]["ignored"], "stale", "{}", r.json);
    let entry = diary(&cara)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["appointment_id"] == appointment_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["start"], "2030-01-11T09:00:00Z");

    // A cancellation from someone else is ignored; the organizer's is applied.
    let forged = email(
        "mallory@evil.example",
        "CANCEL",
        "cancel-0@evil.example",
        &invitation("q1@acme.example", 2, "20300111T090000Z", "STATUS:CANCELLED\r\n")
            .replace("ORGANIZER;CN=Bob Berg:mailto:bob@acme.example", "ORGANIZER:mailto:mallory@evil.example"),
    );
    let r = cara.post_raw("/api/inbox", "message/rfc822", forged.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!effects(&r.json["decision"]).contains(&"cancel_appointment".to_owned()), "{}", r.json);
    assert!(diary(&cara).as_array().unwrap().iter().any(|e| e["appointment_id"] == appointment_id.as_str()));
    let cancel = email(
        "bob@acme.example",
        "CANCEL",
        "cancel-1@acme.example",
        &invitation("q1@acme.example", 2, "20300111T090000Z", "STATUS:CANCELLED\r\n"),
    );
    let r = cara.post_raw("/api/inbox", "message/rfc822", cancel.as_bytes());
    assert_eq!(r.json["decision"]["kind"], "cancel");
    assert!(effects(&r.json["decision"]).contains(&"cancel_appointment".to_owned()), "{}", r.json);
    assert!(diary(&cara).as_array().unwrap().iter().all(|e| e["appointment_id"] != appointment_id.as_str()));
}

#[test]
fn unknown_sender_and_recurring_invitations() {
    let (server, _db) = TestServer::demo("inbox-unknown");
    let (cara, _) = server.sign_in(CARA.0, CARA.1);

    // Unknown sender: nothing on arrival, a contact suggestion; Accept still works.
    let event = invitation("u1@stranger.example", 0, "20300114T090000Z", "").replace(
        "ORGANIZER;CN=Bob Berg:mailto:bob@acme.example",
        "ORGANIZER;CN=Sam Stranger:mailto:sam@stranger.example",
    );
    let msg = email("Sam Stranger <sam@stranger.example>", "REQUEST", "u1@stranger.example", &event);
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let d = &r.json["decision"];
    assert_eq!(d["ignored"], "unknown_sender");
    assert!(effects(d).contains(&"suggest_contact".to_owned()), "{d}");
    assert!(r.json["appointment_id"].is_null());
    assert!(diary(&cara).as_array().unwrap().iter().all(|e| e["title"] != "Quarterly review"));
    let r = cara.post("/api/inbox/actions", &json!({"message": msg, "action": {"type": "accept"}}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(effects(&r.json["decision"]).contains(&"create_appointment".to_owned()));
    assert_eq!(r.json["outbox"][0]["recipient"], "sam@stranger.example");
    let id = r.json["appointment_id"].as_str().unwrap();
    assert!(diary(&cara).as_array().unwrap().iter().any(|e| e["appointment_id"] == id && e["status"] == "accepted"));

    // Registered as suggested, Sam's next invitation becomes a tentative appointment.
    let r = cara.post("/api/persons", &json!({"name": "Sam Stranger", "emails": ["Sam@Stranger.example"]}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json["emails"][0], "sam@stranger.example");
    let sam = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(cara.post("/api/persons", &json!({"name": "Again", "emails": ["sam@stranger.example"]})).status, 409);
    assert_eq!(cara.post("/api/persons", &json!({"name": "No mail", "emails": []})).status, 422);
    let event = invitation("u2@stranger.example", 0, "20300121T090000Z", "").replace(
        "ORGANIZER;CN=Bob Berg:mailto:bob@acme.example",
        "ORGANIZER;CN=Sam Stranger:mailto:sam@stranger.example",
    );
    let msg = email("Sam Stranger <sam@stranger.example>", "REQUEST", "u2@stranger.example", &event);
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(effects(&r.json["decision"]), ["create_appointment"], "{}", r.json);
    let acts = cara.get(&format!("/api/persons/{sam}/activities")).json;
    assert!(acts.as_array().unwrap().iter().any(|a| a["id"] == r.json["appointment_id"]));

    // Recurring: nothing on arrival; Accept all creates the series.
    let event = invitation("r1@acme.example", 0, "20300114T090000Z", "RRULE:FREQ=WEEKLY;COUNT=4\r\n");
    let msg = email("bob@acme.example", "REQUEST", "r1@acme.example", &event);
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    let d = &r.json["decision"];
    assert_eq!(d["recurring"], true);
    assert_eq!(d["ignored"], "recurring_needs_accept_all");
    assert!(d["buttons"]["accept_all"].as_bool().unwrap());
    assert!(r.json["appointment_id"].is_null());
    let r =
        cara.post("/api/inbox/actions", &json!({"message": msg, "action": {"type": "accept_all", "notify": false}}));
    assert_eq!(r.status, 200, "{}", r.text());
    let created = r.json["decision"]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "create_appointment")
        .unwrap()
        .clone();
    let occurrences = created["occurrences"].as_array().map(|o| o.len()).unwrap_or(0);
    let entries: Vec<Value> = diary(&cara)
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["appointment_id"] == r.json["appointment_id"])
        .cloned()
        .collect();
    assert_eq!(occurrences, 4, "{created}");
    assert_eq!(entries.len(), occurrences, "{entries:?}");
    assert!(entries.iter().all(|e| e["recurrence_id"].is_string()));
    assert_eq!(entries[1]["start"], "2030-01-21T09:00:00Z");

    // The organizer cancels one occurrence: it leaves the diary, the others stay.
    let event =
        invitation("r1@acme.example", 1, "20300114T090000Z", "RECURRENCE-ID:20300121T090000Z\r\nSTATUS:CANCELLED\r\n")
            .replace(
                "DTSTART:20300114T090000Z\r\nDTEND:20300114T100000Z",
                "DTSTART:20300121T090000Z\r\nDTEND:20300121T100000Z",
            );
    let cancel = email("bob@acme.example", "CANCEL", "r1-cancel@acme.example", &event);
    let r = cara.post_raw("/api/inbox", "message/rfc822", cancel.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(effects(&r.json["decision"]).contains(&"cancel_occurrence".to_owned()), "{}", r.json);
    let entries: Vec<Value> = diary(&cara)
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["appointment_id"] == r.json["appointment_id"])
        .cloned()
        .collect();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(entries.iter().all(|e| e["start"] != "2030-01-21T09:00:00Z"));
}

#[test]
fn replies_to_crm_follow_ups_genuine_and_forged() {
    let (server, _db) = TestServer::demo("inbox-reply");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let (dan, _) = server.sign_in(DAN.0, DAN.1);
    let bob = id_where(&ben.get("/api/persons?q=bob").json, "name", "Bob Berg");
    let r = ben.post(
        "/api/followups",
        &json!({"title": "Demo for Acme", "start": at(0, 10, 0), "end": at(0, 11, 0), "persons": [bob]}),
    );
    assert_eq!(r.status, 201);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let uid = r.json["uid"].as_str().unwrap().to_owned();
    let request = r.json["outbox"][0]["ics"].as_str().unwrap().replace("\r\n ", "");
    assert!(request.contains(&format!("UID:{uid}")));

    let reply = |from: &str, partstat: &str, message_id: &str| {
        let event = format!(
            "UID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20291202T120000Z\r\nDTSTART:{}\r\nDTEND:{}\r\n\
             ORGANIZER:mailto:ben@ourcompany.example\r\nATTENDEE;CN=Bob Berg;PARTSTAT={partstat}:mailto:bob@acme.example\r\n",
            at(0, 10, 0).replace(['-', ':'], ""),
            at(0, 11, 0).replace(['-', ':'], "")
        );
        email(from, "REPLY", message_id, &event)
    };
    let bob_status = |c: &Client| {
        let f = c.get(&format!("/api/followups/{id}")).json;
        f["participants"].as_array().unwrap().iter().find(|p| p["name"] == "Bob Berg").unwrap()["status"].clone()
    };

    // A forged reply (someone else speaking for Bob) changes nothing.
    let forged = reply("mallory@evil.example", "DECLINED", "forged@evil.example");
    let r = ada.post_raw("/api/inbox?mailbox=crm@ourcompany.example", "message/rfc822", forged.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["decision"]["kind"], "reply");
    assert_eq!(r.json["decision"]["ignored"], "sender_mismatch", "{}", r.json);
    assert_eq!(bob_status(&ben), "needs_action");

    // Only an administrator delivers to the CRM inbox.
    let genuine = reply("Bob Berg <bob@acme.example>", "ACCEPTED", "reply-1@acme.example");
    assert_eq!(
        dan.post_raw("/api/inbox?mailbox=crm@ourcompany.example", "message/rfc822", genuine.as_bytes()).status,
        403
    );
    let r = ada.post_raw("/api/inbox?mailbox=crm@ourcompany.example", "message/rfc822", genuine.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(effects(&r.json["decision"]).contains(&"set_attendee_status".to_owned()), "{}", r.json);
    assert_eq!(r.json["appointment_id"], id.as_str());
    assert_eq!(bob_status(&ben), "accepted");
    let f = ben.get(&format!("/api/followups/{id}")).json;
    assert!(f["ics"].as_str().unwrap().replace("\r\n ", "").contains("PARTSTAT=ACCEPTED"));

    // The same reply again: a duplicate.
    let r = ada.post_raw("/api/inbox?mailbox=crm@ourcompany.example", "message/rfc822", genuine.as_bytes());
    assert_eq!(r.json["duplicate"], true);

    // Bob declines later: his status changes and Ben is notified.
    let declined = reply("bob@acme.example", "DECLINED", "reply-2@acme.example")
        .replace("DTSTAMP:20291202T120000Z", "DTSTAMP:20291203T120000Z");
    let r = ada.post_raw("/api/inbox?mailbox=crm@ourcompany.example", "message/rfc822", declined.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(bob_status(&ben), "declined");
    assert!(effects(&r.json["decision"]).contains(&"notify".to_owned()), "{}", r.json);
    let notes = ben.get("/api/notifications").json;
    let note = notes.as_array().unwrap().iter().find(|n| n["appointment_id"] == id.as_str()).unwrap().clone();
    assert_eq!(note["what"], "invitation_declined");
    assert_eq!(note["message"], "Bob Berg declined your invitation to \"Demo for Acme\"");
    // A counter-proposal is shown to the owner, never applied.
    let counter = reply("bob@acme.example", "ACCEPTED", "counter-1@acme.example")
        .replace("method=REPLY", "method=COUNTER")
        .replace("METHOD:REPLY", "METHOD:COUNTER")
        .replace(
            &format!("DTSTART:{}", at(0, 10, 0).replace(['-', ':'], "")),
            &format!("DTSTART:{}", at(1, 10, 0).replace(['-', ':'], "")),
        )
        .replace(
            &format!("DTEND:{}", at(0, 11, 0).replace(['-', ':'], "")),
            &format!("DTEND:{}", at(1, 11, 0).replace(['-', ':'], "")),
        );
    let r = ada.post_raw("/api/inbox?mailbox=crm@ourcompany.example", "message/rfc822", counter.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["decision"]["kind"], "counter");
    assert!(effects(&r.json["decision"]).contains(&"counter_proposal".to_owned()), "{}", r.json);
    let notes = ben.get("/api/notifications").json;
    assert!(
        notes.as_array().unwrap().iter().any(|n| n["what"] == "counter_proposal" && n["appointment_id"] == id.as_str())
    );
    assert_eq!(ben.get(&format!("/api/followups/{id}")).json["start"], at(0, 10, 0));

    // The reply delivered to Ben's own mailbox works the same.
    let tentative = reply("bob@acme.example", "TENTATIVE", "reply-3@acme.example")
        .replace("DTSTAMP:20291202T120000Z", "DTSTAMP:20291204T120000Z");
    let r = ben.post_raw("/api/inbox", "message/rfc822", tentative.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(bob_status(&ben), "tentative");
}

#[test]
fn preferences_and_settings_shape_the_decision() {
    let (server, _db) = TestServer::demo("inbox-prefs");
    let (cara, _) = server.sign_in(CARA.0, CARA.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);

    // Import off: no tentative appointment.
    let s = cara.put("/api/settings", &json!({"import_tentative": false})).json;
    assert_eq!(s["import_tentative_effective"], false);
    let msg = email(
        "bob@acme.example",
        "REQUEST",
        "p1@acme.example",
        &invitation("p1@acme.example", 0, "20300115T090000Z", ""),
    );
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.json["decision"]["ignored"], "import_off", "{}", r.json);
    assert!(r.json["appointment_id"].is_null());
    cara.put("/api/settings", &json!({"import_tentative": true}));

    // A synchronizer (system-wide): the toggle is disabled with a reason, nothing imported.
    assert_eq!(ada.put("/api/preferences", &json!({"synchronizer": true})).status, 200);
    let s = cara.get("/api/settings").json;
    assert_eq!(s["import_tentative_enabled"], false);
    assert!(s["disabled_reason"].is_string());
    let msg = email(
        "bob@acme.example",
        "REQUEST",
        "p2@acme.example",
        &invitation("p2@acme.example", 0, "20300115T090000Z", ""),
    );
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.json["decision"]["ignored"], "synchronizer_active", "{}", r.json);
    ada.put("/api/preferences", &json!({"synchronizer": false}));

    // disable_all: a plain e-mail, buttons off, answers refused with a clear error.
    assert_eq!(ada.put("/api/preferences", &json!({"incoming": "sometimes"})).status, 422);
    assert_eq!(ada.put("/api/preferences", &json!({"incoming": "disable_all"})).status, 200);
    let msg = email(
        "bob@acme.example",
        "REQUEST",
        "p3@acme.example",
        &invitation("p3@acme.example", 0, "20300115T090000Z", ""),
    );
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.json["decision"]["display"], "plain_email");
    assert_eq!(r.json["decision"]["buttons"]["accept"], false);
    let r = cara.post("/api/inbox/actions", &json!({"message": msg, "action": {"type": "accept"}}));
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.code(), "action_disabled");
    ada.put("/api/preferences", &json!({"incoming": "enable_all"}));

    // Bad input: stable codes, never a crash.
    let r = cara.post_raw("/api/inbox", "message/rfc822", b"From: a@b.example\r\nSubject: x\r\n\r\nno calendar here");
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "no_calendar_part");
    let r = cara.post_raw("/api/inbox", "text/calendar", b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n");
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "no_event");
    let r = cara.post("/api/inbox/actions", &json!({"action": {"type": "accept"}}));
    assert_eq!(r.status, 422);
    let r = ada.post_raw("/api/inbox?mailbox=nobody@nowhere.example", "text/calendar", msg.as_bytes());
    assert_eq!(r.status, 422);
}

#[test]
fn archive_with_suggestions() {
    let (server, _db) = TestServer::demo("archive");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (cara, _) = server.sign_in(CARA.0, CARA.1);

    // Suggestions: matched persons first, then their companies, then open projects and sales.
    let r = ben.get("/api/archive/suggestions?addresses=bob@acme.example,someone@globex.example,nobody@else.example");
    assert_eq!(r.status, 200);
    let kinds: Vec<&str> = r.json.as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"person"));
    let names: Vec<&str> = r.json.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names[0], "Bob Berg");
    assert_eq!(names[1], "Acme Ltd");
    assert_eq!(names[2], "Globex Corporation", "a company by e-mail domain follows: {names:?}");
    assert!(
        names.contains(&"Acme rollout") && names.contains(&"Acme licences 2027") && names.contains(&"Globex pilot")
    );
    assert!(
        !names.contains(&"Acme archive migration") && !names.contains(&"Acme hardware"),
        "closed ones are left out"
    );
    let first_deal = kinds.iter().position(|k| *k == "project" || *k == "sale").unwrap();
    assert!(kinds[..first_deal].iter().all(|k| *k == "person" || *k == "company"));

    // Archive a plain e-mail linked to Bob: it shows in his Activities.
    let bob = id_where(&ben.get("/api/persons?q=bob").json, "name", "Bob Berg");
    let project = r.json.as_array().unwrap().iter().find(|s| s["name"] == "Acme rollout").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mail = "From: Bob Berg <bob@acme.example>\r\nTo: ben@ourcompany.example\r\nSubject: Prices\r\nMessage-ID: <p@acme.example>\r\n\r\nSee attached.";
    let r = ben.post(
        "/api/archive",
        &json!({"message": mail, "links": [{"kind": "person", "id": bob}, {"kind": "project", "id": project}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json["kind"], "email");
    assert_eq!(r.json["subject"], "Prices");
    assert_eq!(r.json["from_email"], "bob@acme.example");
    assert!(r.json["appointment_id"].is_null());
    let acts = ben.get(&format!("/api/persons/{bob}/activities")).json;
    assert!(acts.as_array().unwrap().iter().any(|a| a["type"] == "archived" && a["title"] == "Prices"));
    assert_eq!(ben.get("/api/archive").json.as_array().unwrap().len(), 1);
    assert_eq!(cara.get("/api/archive").json.as_array().unwrap().len(), 0, "Cara sees only her own archive");
    // A mail without a meeting is read as the engine reads mail: encoded
    // words in `Subject` and in the display name, the address lower-cased.
    let encoded = "From: =?utf-8?Q?Bj=C3=B6rn_Berg?= <Bob@ACME.example>\r\nSubject: =?iso-8859-1?Q?Pr=E9stamo?= =?utf-8?B?w6Q=?=\r\n\r\nHi.";
    let r = ben.post("/api/archive", &json!({"message": encoded}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json["subject"], "Préstamoä");
    assert_eq!(r.json["from_email"], "bob@acme.example");

    // Bad links are refused.
    let r = ben.post("/api/archive", &json!({"message": mail, "links": [{"kind": "planet", "id": "x"}]}));
    assert_eq!(r.status, 422);
    let r = ben.post("/api/archive", &json!({"message": mail, "links": [{"kind": "person", "id": "nope"}]}));
    assert_eq!(r.status, 422);

    // Archiving a meeting creates its appointment; archiving a newer version updates it.
    let meeting = email(
        "bob@acme.example",
        "REQUEST",
        "m1@acme.example",
        &invitation("m1@acme.example", 0, "20300116T090000Z", ""),
    );
    let r = ben.post("/api/archive", &json!({"message": meeting, "links": [{"kind": "person", "id": bob}]}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json["kind"], "meeting");
    let appointment = r.json["appointment_id"].as_str().unwrap().to_owned();
    let entry =
        diary(&ben).as_array().unwrap().iter().find(|e| e["appointment_id"] == appointment.as_str()).unwrap().clone();
    assert_eq!(entry["start"], "2030-01-16T09:00:00Z");
    let newer = email(
        "bob@acme.example",
        "REQUEST",
        "m2@acme.example",
        &invitation("m1@acme.example", 1, "20300117T090000Z", ""),
    );
    let r = ben.post("/api/archive", &json!({"message_base64": base64(newer.as_bytes())}));
    assert_eq!(r.json["appointment_id"], appointment.as_str());
    let entry =
        diary(&ben).as_array().unwrap().iter().find(|e| e["appointment_id"] == appointment.as_str()).unwrap().clone();
    assert_eq!(entry["start"], "2030-01-17T09:00:00Z");
    // A raw .ics works too.
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:ics-1@x.example\r\nDTSTAMP:20291201T000000Z\r\n\
               DTSTART;TZID=Europe/Oslo:20300118T100000\r\nDURATION:PT30M\r\nSUMMARY:Zoned\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let r = ben.post("/api/archive", &json!({"message": ics}));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json["appointment_id"].as_str().unwrap();
    let entry = diary(&ben).as_array().unwrap().iter().find(|e| e["appointment_id"] == id).unwrap().clone();
    assert_eq!(entry["start"], "2030-01-18T09:00:00Z");
    assert_eq!(entry["end"], "2030-01-18T09:30:00Z");
}

fn base64(bytes: &[u8]) -> String {
    invitelink_server::base64::encode(bytes)
}

/// One reading of a meeting's time in the backend's diary: a day-long event
/// in Oslo across the spring change ends where `expand` says (a nominal day
/// is 23 exact hours there), as it does in `decide`.
#[test]
fn the_diary_takes_a_nominal_day_across_daylight_saving() {
    let (server, _db) = TestServer::demo("inbox-nominal-day");
    let (cara, _) = server.sign_in(CARA.0, CARA.1);
    let event = "UID:day-1@acme.example\r\nSEQUENCE:0\r\nDTSTAMP:20300101T120000Z\r\n\
                 DTSTART;TZID=Europe/Oslo:20300330T120000\r\nDURATION:P1D\r\nSUMMARY:Offsite\r\n\
                 ORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
                 ATTENDEE;CN=Cara Dahl;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:cara@ourcompany.example\r\n";
    let msg = email("Bob Berg <bob@acme.example>", "REQUEST", "day-1@acme.example", event);
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let entries = cara.get("/api/diary?from=2030-03-01T00:00:00Z&until=2030-04-30T00:00:00Z").json;
    let entry = entries.as_array().unwrap().iter().find(|e| e["title"] == "Offsite").unwrap().clone();
    // 2030-03-31 is the change in Oslo: 12:00 CET = 11:00Z, next day 12:00 CEST = 10:00Z.
    assert_eq!(
        (entry["start"].as_str(), entry["end"].as_str()),
        (Some("2030-03-30T11:00:00Z"), Some("2030-03-31T10:00:00Z"))
    );
    let ics = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n{event}END:VEVENT\r\nEND:VCALENDAR\r\n");
    let expansion = invitelink::api::expand(ics.as_bytes(), &invitelink::api::ExpandRequest::default()).unwrap();
    assert_eq!(expansion.occurrences[0].end, "2030-03-31T10:00:00Z");
}
