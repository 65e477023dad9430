#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SPEC 4 flows over HTTP: invitations and their statuses, notifications,
//! rescheduling, assignments, resources and first available, the group view,
//! the diary, and a person's Activities.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::*;

fn invitation_for(list: &Value, appointment_id: &str, direction: &str) -> Option<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i["appointment"]["id"] == appointment_id && i["direction"] == direction)
        .cloned()
}

fn participant<'a>(followup: &'a Value, name: &str) -> &'a Value {
    followup["participants"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()
}

#[test]
fn decline_notification_got_it_and_reschedule() {
    let (server, _db) = TestServer::demo("decline");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (cara, cara_id) = server.sign_in(CARA.0, CARA.1);
    let (dan, dan_id) = server.sign_in(DAN.0, DAN.1);
    let (ada, ada_id) = server.sign_in(ADA.0, ADA.1);

    let r = ben.post(
        "/api/followups",
        &json!({"title": "Roadmap review", "start": at(0, 9, 0), "end": at(0, 10, 0), "location": "Online",
                "associates": [cara_id, dan_id, ada_id]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let fu = r.json.clone();
    let id = fu["id"].as_str().unwrap().to_owned();
    assert_eq!(fu["status"], "booked");
    assert_eq!(participant(&fu, "Cara Dahl")["status"], "not_seen");

    // Cara sees it in her list and in her diary as a pending invitation.
    let list = cara.get("/api/invitations").json;
    let inv = invitation_for(&list, &id, "incoming").expect("Cara's invitation");
    assert_eq!(inv["status"], "not_seen");
    assert_eq!(inv["type"], "invitation");
    let cara_inv = inv["id"].as_str().unwrap().to_owned();
    let diary = cara.get(&format!("/api/diary?from={}&until={}", at(0, 0, 0), at(1, 0, 0))).json;
    let entry = diary.as_array().unwrap().iter().find(|e| e["appointment_id"] == id.as_str()).unwrap();
    assert_eq!(entry["kind"], "invitation");

    // Seen, then accepted: it leaves her list and is an appointment in her diary.
    let r = cara.post(&format!("/api/invitations/{cara_inv}/seen"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["invitation"]["status"], "seen");
    let r = cara.post(&format!("/api/invitations/{cara_inv}/accept"), &json!({}));
    assert_eq!(r.json["invitation"]["status"], "accepted");
    assert!(invitation_for(&cara.get("/api/invitations").json, &id, "incoming").is_none());
    let diary = cara.get(&format!("/api/diary?from={}&until={}", at(0, 0, 0), at(1, 0, 0))).json;
    let entry = diary.as_array().unwrap().iter().find(|e| e["appointment_id"] == id.as_str()).unwrap();
    assert_eq!(entry["kind"], "appointment");

    // Dan declines: Ben is notified until Got it.
    let dan_inv =
        invitation_for(&dan.get("/api/invitations").json, &id, "incoming").unwrap()["id"].as_str().unwrap().to_owned();
    let r = dan.post(&format!("/api/invitations/{dan_inv}/decline"), &json!({}));
    assert_eq!(r.status, 200);
    let notes = ben.get("/api/notifications").json;
    let note = notes.as_array().unwrap().iter().find(|n| n["appointment_id"] == id.as_str()).unwrap().clone();
    assert_eq!(note["what"], "invitation_declined");
    assert!(note["message"].as_str().unwrap().contains("Dan Moe"));

    // Ben's list: the two responses; "Show responses" shows them alone.
    let all = ben.get("/api/invitations").json;
    let responses = ben.get("/api/invitations?responses=true").json;
    assert!(responses.as_array().unwrap().iter().all(|i| i["direction"] == "response"));
    let mine: Vec<&Value> =
        responses.as_array().unwrap().iter().filter(|i| i["appointment"]["id"] == id.as_str()).collect();
    let statuses: Vec<&str> = mine.iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(mine.len(), 2, "{responses}");
    assert!(statuses.contains(&"accepted") && statuses.contains(&"declined"));
    assert!(all.as_array().unwrap().len() >= responses.as_array().unwrap().len());
    assert!(all.as_array().unwrap().iter().any(|i| i["direction"] == "incoming"), "demo invitations for Ben: {all}");

    // Someone else cannot press Got it; Ben can, and it leaves the list.
    let nid = note["id"].as_str().unwrap();
    assert_eq!(dan.post(&format!("/api/notifications/{nid}/got-it"), &json!({})).status, 403);
    let r = ben.post(&format!("/api/notifications/{nid}/got-it"), &json!({}));
    assert_eq!(r.status, 200);
    assert!(r.json["got_it_at"].is_string());
    let notes = ben.get("/api/notifications").json;
    assert!(notes.as_array().unwrap().iter().all(|n| n["id"] != nid));
    assert!(ben.get("/api/notifications?all=true").json.as_array().unwrap().iter().any(|n| n["id"] == nid));

    // Reschedule: whoever had seen or answered gets `moved`, Ada (not seen) stays `not_seen`.
    assert_eq!(
        cara.post(&format!("/api/followups/{id}/reschedule"), &json!({"start": at(1, 9, 0), "end": at(1, 10, 0)}))
            .status,
        403
    );
    let r = ben.post(&format!("/api/followups/{id}/reschedule"), &json!({"start": at(1, 9, 0), "end": at(1, 10, 0)}));
    assert_eq!(r.status, 200, "{}", r.text());
    let fu = r.json;
    assert_eq!(fu["start"], at(1, 9, 0));
    assert_eq!(fu["sequence"], 1);
    assert_eq!(participant(&fu, "Cara Dahl")["status"], "moved");
    assert_eq!(participant(&fu, "Dan Moe")["status"], "moved");
    assert_eq!(participant(&fu, "Ada Larsen")["status"], "not_seen");
    assert!(fu["ics"].as_str().unwrap().contains("SEQUENCE:1"));

    // Cara opens the moved invitation: moved_seen; then accepts again.
    let inv = invitation_for(&cara.get("/api/invitations").json, &id, "incoming").unwrap();
    assert_eq!(inv["status"], "moved");
    let r = cara.post(&format!("/api/invitations/{cara_inv}/seen"), &json!({}));
    assert_eq!(r.json["invitation"]["status"], "moved_seen");
    let r = cara.post(&format!("/api/invitations/{cara_inv}/accept"), &json!({}));
    assert_eq!(r.json["invitation"]["status"], "accepted");

    // Deleting: invitations become cancelled and show until seen.
    assert_eq!(dan.delete(&format!("/api/followups/{id}")).status, 403);
    let r = ben.delete(&format!("/api/followups/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "cancelled");
    let inv = invitation_for(&ada.get("/api/invitations").json, &id, "incoming").unwrap();
    assert_eq!(inv["status"], "cancelled");
    let ada_inv = inv["id"].as_str().unwrap();
    assert_eq!(ada.post(&format!("/api/invitations/{ada_inv}/accept"), &json!({})).status, 409);
    ada.post(&format!("/api/invitations/{ada_inv}/seen"), &json!({}));
    assert!(invitation_for(&ada.get("/api/invitations").json, &id, "incoming").is_none());
}

#[test]
fn assign_decline_reassign() {
    let (server, _db) = TestServer::demo("assign");
    let (ben, ben_id) = server.sign_in(BEN.0, BEN.1);
    let (cara, cara_id) = server.sign_in(CARA.0, CARA.1);
    let (dan, dan_id) = server.sign_in(DAN.0, DAN.1);

    let r =
        ben.post("/api/followups", &json!({"title": "Call Acme back", "start": at(2, 14, 0), "end": at(2, 14, 30)}));
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(cara.post(&format!("/api/followups/{id}/assign"), &json!({"associate_id": dan_id})).status, 403);
    assert_eq!(ben.post(&format!("/api/followups/{id}/assign"), &json!({"associate_id": ben_id})).status, 422);
    let r = ben.post(&format!("/api/followups/{id}/assign"), &json!({"associate_id": cara_id}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["assigned_by"], ben_id.as_str());
    assert_eq!(ben.post(&format!("/api/followups/{id}/assign"), &json!({"associate_id": dan_id})).status, 409);
    assert_eq!(ben.post(&format!("/api/followups/{id}/reassign"), &json!({"associate_id": dan_id})).status, 409);

    // Cara sees the assignment and declines it.
    let item = invitation_for(&cara.get("/api/invitations").json, &id, "incoming").unwrap();
    assert_eq!(item["type"], "assignment");
    assert_eq!(item["status"], "assigned");
    let aid = item["id"].as_str().unwrap().to_owned();
    assert_eq!(dan.post(&format!("/api/invitations/{aid}/decline"), &json!({})).status, 403);
    let r = cara.post(&format!("/api/invitations/{aid}/decline"), &json!({}));
    assert_eq!(r.json["invitation"]["status"], "declined");

    // Ben sees it declined (list and notification), and reassigns to Dan.
    let item = invitation_for(&ben.get("/api/invitations?responses=true").json, &id, "response").unwrap();
    assert_eq!(item["type"], "assignment");
    assert_eq!(item["status"], "declined");
    let notes = ben.get("/api/notifications").json;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["what"] == "assignment_declined" && n["appointment_id"] == id.as_str())
    );
    assert_eq!(cara.post(&format!("/api/followups/{id}/reassign"), &json!({"associate_id": dan_id})).status, 403);
    let r = ben.post(&format!("/api/followups/{id}/reassign"), &json!({"associate_id": dan_id}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(invitation_for(&ben.get("/api/invitations?responses=true").json, &id, "response").is_none());

    // Dan accepts: he becomes the owner; Ben sees the acceptance.
    let item = invitation_for(&dan.get("/api/invitations").json, &id, "incoming").unwrap();
    let r = dan.post(&format!("/api/invitations/{}/accept", item["id"].as_str().unwrap()), &json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json["appointment"]["owner_id"], dan_id.as_str());
    let item = invitation_for(&ben.get("/api/invitations?responses=true").json, &id, "response").unwrap();
    assert_eq!(item["status"], "accepted");
    // Ben presses seen on the answer: it leaves his list.
    ben.post(&format!("/api/invitations/{}/seen", item["id"].as_str().unwrap()), &json!({}));
    assert!(invitation_for(&ben.get("/api/invitations?responses=true").json, &id, "response").is_none());
    // Dan, the owner now, can reschedule it; Ben no longer can.
    assert_eq!(
        ben.post(&format!("/api/followups/{id}/reschedule"), &json!({"start": at(3, 9, 0), "end": at(3, 9, 30)}))
            .status,
        403
    );
    assert_eq!(
        dan.post(&format!("/api/followups/{id}/reschedule"), &json!({"start": at(3, 9, 0), "end": at(3, 9, 30)}))
            .status,
        200
    );
}

#[test]
fn double_booked_room_conflict_and_first_available() {
    let (server, _db) = TestServer::demo("rooms");
    let (ben, ben_id) = server.sign_in(BEN.0, BEN.1);
    let (cara, cara_id) = server.sign_in(CARA.0, CARA.1);
    let fjord = id_where(&ben.get("/api/resources?q=fjord").json, "name", "Room Fjord");

    let r = ben.post(
        "/api/followups",
        &json!({"title": "Board prep", "start": at(0, 9, 0), "end": at(0, 10, 0), "resources": [fjord]}),
    );
    assert_eq!(r.status, 201);
    let first = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(participant(&r.json, "Room Fjord")["status"], "accepted");
    assert_eq!(participant(&r.json, "Room Fjord")["conflict"], false);
    assert!(r.json["first_available"].is_null());

    // Cara books the same room at an overlapping time: conflict, and the first time everyone is free.
    let r = cara.post(
        "/api/followups",
        &json!({"title": "Team lunch planning", "start": at(0, 9, 30), "end": at(0, 10, 30), "resources": [fjord], "associates": [ben_id]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let second = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(participant(&r.json, "Room Fjord")["status"], "accepted");
    assert_eq!(participant(&r.json, "Room Fjord")["conflict"], true);
    assert_eq!(r.json["first_available"], at(0, 10, 0));
    // Both sides of the double booking show it.
    let r = ben.get(&format!("/api/followups/{first}"));
    assert_eq!(participant(&r.json, "Room Fjord")["conflict"], true);
    // And the diary's calendar (on PostgreSQL as on SQLite): Ben's own
    // follow-up and Cara's invitation, both marked.
    let r = ben.get(&format!("/api/calendar?from={}&until={}", at(0, 0, 0), at(1, 0, 0)));
    assert_eq!(r.status, 200, "{}", r.text());
    let mine: Vec<_> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["appointment_id"] == first || e["appointment_id"] == second)
        .collect();
    assert_eq!(mine.len(), 2, "{}", r.text());
    assert!(mine.iter().all(|e| e["conflict"] == true), "{}", r.text());

    // First available and the group view.
    let r = cara.get(&format!(
        "/api/first-available?resources={fjord}&associates={ben_id},{cara_id}&after={}&duration=60",
        at(0, 9, 0)
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["start"], at(0, 10, 30));
    let r =
        cara.get(&format!("/api/first-available?resources={fjord}&after={}&duration=60&exclude={second}", at(0, 9, 0)));
    assert_eq!(r.json["start"], at(0, 10, 0));
    // Working hours: 08:00-16:00, weekdays. Friday 15:30 for an hour -> Monday 08:00.
    let r = cara.get(&format!("/api/first-available?associates={cara_id}&after={}&duration=60", at(4, 15, 30)));
    assert_eq!(r.json["start"], at(7, 8, 0));
    let r = cara.get(&format!(
        "/api/freebusy?resources={fjord}&associates={ben_id}&from={}&until={}",
        at(0, 0, 0),
        at(1, 0, 0)
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let room = &r.json["resources"][0];
    assert_eq!(room["name"], "Room Fjord");
    assert_eq!(room["busy"].as_array().unwrap().len(), 2);
    let ben_busy = r.json["associates"][0]["busy"].as_array().unwrap().clone();
    assert_eq!(ben_busy.len(), 2, "{ben_busy:?}");
    assert!(ben_busy.iter().any(|b| b["status"] == "tentative"), "the pending invitation is tentative");
    assert!(r.json["associates"][0]["busy"][0].get("title").is_none(), "no titles in the group view");
    assert_eq!(cara.get(&format!("/api/freebusy?from={}&until={}", at(1, 0, 0), at(0, 0, 0))).status, 422);
    assert_eq!(
        cara.get(&format!("/api/freebusy?resources=nope&from={}&until={}", at(0, 0, 0), at(1, 0, 0))).status,
        404
    );

    // Rescheduled out of the way: no conflict on either side.
    let r =
        cara.post(&format!("/api/followups/{second}/reschedule"), &json!({"start": at(0, 11, 0), "end": at(0, 12, 0)}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(participant(&r.json, "Room Fjord")["conflict"], false);
    assert!(r.json["first_available"].is_null());
    let r = ben.get(&format!("/api/followups/{first}"));
    assert_eq!(participant(&r.json, "Room Fjord")["conflict"], false);
}

#[test]
fn persons_get_email_invitations_and_activities() {
    let (server, _db) = TestServer::demo("persons");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let bob = id_where(&ben.get("/api/persons?q=bob").json, "name", "Bob Berg");

    let r = ben.post(
        "/api/followups",
        &json!({"title": "Contract talk", "start": at(0, 13, 0), "end": at(0, 14, 0), "persons": [bob],
                "emails": ["New.Person@Example.org"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["person_id"], bob.as_str());
    assert!(r.json["company_id"].is_string());
    let outbox = r.json["outbox"].as_array().unwrap().clone();
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    let to_bob = outbox.iter().find(|m| m["recipient"] == "bob@acme.example").unwrap();
    assert_eq!(to_bob["method"], "REQUEST");
    assert_eq!(to_bob["sender"], "ben@ourcompany.example");
    assert_eq!(to_bob["reply_to"], "crm@ourcompany.example");
    let ics = to_bob["ics"].as_str().unwrap().replace("\r\n ", "");
    assert!(ics.contains("METHOD:REQUEST"), "{ics}");
    assert!(ics.contains("RSVP=TRUE"), "{ics}");
    assert!(outbox.iter().any(|m| m["recipient"] == "new.person@example.org"));

    // The follow-up is among Bob's activities.
    let r = ada.get(&format!("/api/persons/{bob}/activities"));
    assert_eq!(r.status, 200);
    assert!(
        r.json.as_array().unwrap().iter().any(|a| a["id"] == id.as_str() && a["participant_status"] == "needs_action")
    );
    assert_eq!(ada.get("/api/persons/nope/activities").status, 404);

    // Rescheduled: an updated REQUEST with SEQUENCE 1.
    let r = ben.post(&format!("/api/followups/{id}/reschedule"), &json!({"start": at(0, 14, 0), "end": at(0, 15, 0)}));
    let to_bob =
        r.json["outbox"].as_array().unwrap().iter().find(|m| m["recipient"] == "bob@acme.example").unwrap().clone();
    assert!(to_bob["ics"].as_str().unwrap().contains("SEQUENCE:1"));
    assert!(to_bob["subject"].as_str().unwrap().starts_with("Updated"));

    // Without "request reply": RSVP=FALSE and no Reply-To.
    assert_eq!(ben.put("/api/preferences", &json!({"request_reply": false})).status, 403);
    assert_eq!(ada.put("/api/preferences", &json!({"request_reply": false})).status, 200);
    let r = ben.post(
        "/api/followups",
        &json!({"title": "FYI meeting", "start": at(1, 13, 0), "end": at(1, 14, 0), "persons": [bob]}),
    );
    let m = &r.json["outbox"][0];
    assert!(m["reply_to"].is_null());
    assert!(m["ics"].as_str().unwrap().replace("\r\n ", "").contains("RSVP=FALSE"));

    // Deleted: a CANCEL.
    let r = ben.delete(&format!("/api/followups/{id}"));
    let m = r.json["outbox"].as_array().unwrap().iter().find(|m| m["recipient"] == "bob@acme.example").unwrap().clone();
    assert_eq!(m["method"], "CANCEL");

    // The outbox: Ben sees his messages; Ada (admin) sees all and marks one sent.
    let mine = ben.get("/api/outbox").json;
    assert!(mine.as_array().unwrap().len() >= 4);
    let mid = mine[0]["id"].as_str().unwrap();
    assert_eq!(ben.post(&format!("/api/outbox/{mid}/sent"), &json!({})).status, 403);
    let r = ada.post(&format!("/api/outbox/{mid}/sent"), &json!({}));
    assert_eq!(r.json["status"], "sent");
}

#[test]
fn demo_data_has_every_invitation_status() {
    let (server, _db) = TestServer::demo("demo");
    let mut seen = std::collections::BTreeSet::new();
    for (email, password) in [ADA, BEN, CARA, DAN] {
        let (c, _) = server.sign_in(email, password);
        for item in c.get("/api/invitations").json.as_array().unwrap() {
            seen.insert(format!("{}:{}", item["type"].as_str().unwrap(), item["status"].as_str().unwrap()));
        }
    }
    for s in [
        "invitation:not_seen",
        "invitation:seen",
        "invitation:accepted",
        "invitation:declined",
        "invitation:moved",
        "invitation:moved_seen",
        "invitation:cancelled",
        "assignment:assigned",
        "assignment:declined",
    ] {
        assert!(seen.contains(s), "{s} missing from {seen:?}");
    }
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    assert_eq!(ben.get("/api/companies").json.as_array().unwrap().len(), 3);
    assert_eq!(ben.get("/api/resources").json.as_array().unwrap().len(), 3);
    assert_eq!(ben.get("/api/contacts?q=globex").json.as_array().unwrap().len(), 2);
    assert_eq!(ben.get("/api/projects").json.as_array().unwrap().len(), 3);
    assert_eq!(ben.get("/api/sales?q=acme").json.as_array().unwrap().len(), 2);
    assert_eq!(ben.get("/api/associates?q=CARA").json.as_array().unwrap().len(), 1);
}

#[test]
fn description_and_participants_of_a_saved_followup() {
    let (server, _db) = TestServer::demo("participants");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (cara, cara_id) = server.sign_in(CARA.0, CARA.1);
    let (_, dan_id) = server.sign_in(DAN.0, DAN.1);
    let bob = id_where(&ben.get("/api/persons?q=bob").json, "name", "Bob Berg");
    let glacier = id_where(&ben.get("/api/resources?q=glacier").json, "name", "Room Glacier");

    // Created with a description of two lines; external attendees read it.
    let r = ben.post(
        "/api/followups",
        &json!({"title": "Price review", "start": at(2, 13, 0), "end": at(2, 14, 0), "persons": [bob],
                "description": "Agenda:\r\n1. Prices; 2. Dates"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["description"], "Agenda:\n1. Prices; 2. Dates");
    let ics = r.json["outbox"][0]["ics"].as_str().unwrap().replace("\r\n ", "");
    assert!(ics.contains("DESCRIPTION:Agenda:\\n1. Prices\\; 2. Dates"), "{ics}");
    let bad = ben.post(
        "/api/followups",
        &json!({"title": "x", "start": at(2, 13, 0), "end": at(2, 14, 0), "description": "a\u{1b}b"}),
    );
    assert_eq!(bad.status, 400);

    // Cara, a room and a bare address join the saved follow-up.
    let r = ben.post(
        &format!("/api/followups/{id}/participants"),
        &json!({"associates": [cara_id], "resources": [glacier], "emails": ["guest@elsewhere.example"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(participant(&r.json, "Cara Dahl")["status"], "not_seen");
    assert_eq!(participant(&r.json, "Room Glacier")["status"], "accepted");
    let outbox = r.json["outbox"].as_array().unwrap();
    assert!(
        outbox.iter().any(|m| m["recipient"] == "guest@elsewhere.example" && m["method"] == "REQUEST"),
        "{outbox:?}"
    );
    let cara_inv = invitation_for(&cara.get("/api/invitations").json, &id, "incoming").expect("Cara is invited");
    // Adding someone already there changes nothing.
    let again =
        ben.post(&format!("/api/followups/{id}/participants"), &json!({"associates": [cara_id], "persons": [bob]}));
    assert_eq!(again.json["participants"].as_array().unwrap().len(), 4);
    assert!(again.json["outbox"].as_array().unwrap().iter().all(|m| m["recipient"] != "bob@acme.example"));

    // A new description alone asks no one to answer again.
    cara.post(&format!("/api/invitations/{}/accept", cara_inv["id"].as_str().unwrap()), &json!({}));
    let r = ben.post(
        &format!("/api/followups/{id}/reschedule"),
        &json!({"start": at(2, 13, 0), "end": at(2, 14, 0), "description": "Agenda: prices"}),
    );
    assert_eq!(r.json["description"], "Agenda: prices");
    assert_eq!(participant(&r.json, "Cara Dahl")["status"], "accepted");

    // Taken off: Cara's invitation is cancelled (in her list until opened),
    // the room is released, the guest gets a CANCEL.
    let pid = |f: &Value, name: &str| participant(f, name)["id"].as_str().unwrap().to_owned();
    let r = ben.delete(&format!("/api/followups/{id}/participants/{}", pid(&r.json, "Cara Dahl")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(participant(&r.json, "Cara Dahl")["status"], "cancelled");
    assert_eq!(invitation_for(&cara.get("/api/invitations").json, &id, "incoming").unwrap()["status"], "cancelled");
    let r = ben.delete(&format!("/api/followups/{id}/participants/{}", pid(&r.json, "Room Glacier")));
    assert!(r.json["participants"].as_array().unwrap().iter().all(|p| p["name"] != "Room Glacier"));
    let guest = r.json["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "guest@elsewhere.example")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = ben.delete(&format!("/api/followups/{id}/participants/{guest}"));
    let cancel = r.json["outbox"].as_array().unwrap().iter().find(|m| m["recipient"] == "guest@elsewhere.example");
    assert_eq!(cancel.expect("a CANCEL to the guest")["method"], "CANCEL");
    assert!(!r.json["ics"].as_str().unwrap().contains("guest@elsewhere.example"));

    // Invited again: pending anew. Another follow-up's participant is not this one's.
    let r = ben.post(&format!("/api/followups/{id}/participants"), &json!({"associates": [cara_id]}));
    assert_eq!(participant(&r.json, "Cara Dahl")["status"], "not_seen");
    let other = ben.post(
        "/api/followups",
        &json!({"title": "Other", "start": at(3, 9, 0), "end": at(3, 10, 0), "associates": [dan_id]}),
    );
    let dan_pid = pid(&other.json, "Dan Moe");
    assert_eq!(ben.delete(&format!("/api/followups/{id}/participants/{dan_pid}")).status, 404);
}
