#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Contacts and companies over HTTP: the forms' endpoints, every address of
//! a person matching invitations, and the import of contact files as
//! Outlook, Google and Apple export them (tests/data/contacts/): preview,
//! duplicates by address, the user's choices, the refusals, the limits.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::*;

fn sample(name: &str) -> String {
    let path = repo_root().join("tests/data/contacts").join(name);
    invitelink::base64::encode(&std::fs::read(path).unwrap())
}

fn statuses(preview: &Value) -> Vec<(u64, String)> {
    preview["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["status"].as_str().unwrap().to_owned()))
        .collect()
}

fn person_named(c: &Client, q: &str, name: &str) -> Value {
    let id = id_where(&c.get(&format!("/api/persons?q={q}")).json, "name", name);
    c.get(&format!("/api/persons/{id}")).json
}

/// An invitation to Cara from `from`.
fn invitation(from: &str, uid: &str) -> String {
    format!(
        "From: {from}\r\nTo: cara@ourcompany.example\r\nSubject: Meeting\r\nMessage-ID: <{uid}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Partner//Mail//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20291201T120000Z\r\nDTSTART:20300110T090000Z\r\nDTEND:20300110T100000Z\r\n\
         SUMMARY:Supply review\r\nORGANIZER:mailto:{from}\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:cara@ourcompany.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[test]
fn persons_and_companies_are_added_and_edited() {
    let (server, _db) = TestServer::demo("contacts-forms");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);

    let r = ben.post("/api/companies", &json!({"name": "Nordlys AB", "domain": "Nordlys.Example"}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json["domain"], "nordlys.example");
    let nordlys = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(ben.post("/api/companies", &json!({"name": "NORDLYS ab"})).status, 409, "names are unique");
    assert_eq!(ben.post("/api/companies", &json!({"name": "X", "domain": "not a domain"})).code(), "invalid_input");
    assert_eq!(ben.post("/api/companies", &json!({"name": "X\r\nY"})).code(), "control_character");
    assert_eq!(ben.get(&format!("/api/companies/{nordlys}")).json["name"], "Nordlys AB");

    let r = ben.post(
        "/api/persons",
        &json!({"name": "Ingrid Bergström", "emails": ["Ingrid@Nordlys.example", "ib@nordlys-labs.example"],
                "title": "Head of Procurement", "company_id": nordlys, "phone": "+46 70 123 45 67"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["emails"], json!(["ingrid@nordlys.example", "ib@nordlys-labs.example"]), "in the order given");
    assert_eq!(r.json["phone"], "+46 70 123 45 67");
    assert_eq!(r.json["company_name"], "Nordlys AB");

    // Edit: one address replaced, one added; an address of Bob's is refused.
    let r = ben.put(
        &format!("/api/persons/{id}"),
        &json!({"name": "Ingrid Bergström", "emails": ["ingrid@nordlys.example", "ingrid.b@mail.example", "ib2@nordlys.example"],
                "title": "Chief Procurement Officer", "company_id": nordlys}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["emails"], json!(["ingrid@nordlys.example", "ingrid.b@mail.example", "ib2@nordlys.example"]));
    assert_eq!(r.json["title"], "Chief Procurement Officer");
    assert!(r.json["phone"].is_null(), "PUT replaces the person");
    let taken = ben.put(&format!("/api/persons/{id}"), &json!({"name": "I", "emails": ["bob@acme.example"]}));
    assert_eq!((taken.status, taken.code()), (409, "conflict"));
    let bad = ben.put(&format!("/api/persons/{id}"), &json!({"name": "I", "emails": ["not an address"]}));
    assert_eq!(bad.code(), "invalid_input");
    assert_eq!(ben.put(&format!("/api/persons/{id}"), &json!({"name": "I", "emails": []})).code(), "invalid_input");
    assert_eq!(ben.put("/api/persons/nobody", &json!({"name": "I", "emails": ["i@x.example"]})).status, 404);

    // Our own company is the administrators'.
    let ours = id_where(&ben.get("/api/companies?q=our").json, "name", "Our Company");
    let rename = json!({"name": "Our Company ASA", "domain": "ourcompany.example"});
    assert_eq!(ben.put(&format!("/api/companies/{ours}"), &rename).status, 403);
    assert_eq!(ada.put(&format!("/api/companies/{ours}"), &rename).status, 200);

    // Deleting: administrators; a company with persons and a person in follow-ups are kept.
    assert_eq!(ada.delete(&format!("/api/companies/{nordlys}")).status, 409);
    let bob = id_where(&ben.get("/api/persons?q=bob").json, "name", "Bob Berg");
    assert_eq!(ada.delete(&format!("/api/persons/{bob}")).status, 409, "Bob takes part in the demo's follow-ups");
    assert_eq!(ben.delete(&format!("/api/persons/{id}")).status, 403);
    assert_eq!(ada.delete(&format!("/api/persons/{id}")).status, 204);
    assert_eq!(ben.get(&format!("/api/persons/{id}")).status, 404);
    assert_eq!(ada.delete(&format!("/api/companies/{nordlys}")).status, 204);
    assert_eq!(ada.delete(&format!("/api/companies/{ours}")).status, 409, "our own company stays");
}

#[test]
fn every_address_of_a_person_matches_invitations() {
    let (server, _db) = TestServer::demo("contacts-addresses");
    let (cara, _) = server.sign_in(CARA.0, CARA.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);

    // Unknown before the import.
    let msg = invitation("ib@nordlys-labs.example", "before@nordlys.example");
    let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["decision"]["ignored"], "unknown_sender");

    // Google's vCard gives Ingrid a third address as `item1.EMAIL`.
    let r = ada.post("/api/contacts/import", &json!({"content": sample("google.vcf")}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json["created"].as_u64(), r.json["refused"].as_u64()), (Some(1), Some(1)));

    for (n, from) in
        ["ingrid.bergstrom@nordlys.example", "ingrid.b@mail.example", "IB@nordlys-labs.example"].into_iter().enumerate()
    {
        let msg = invitation(from, &format!("after-{n}@nordlys.example"));
        let r = cara.post_raw("/api/inbox", "message/rfc822", msg.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        let d = &r.json["decision"];
        assert!(d["ignored"].is_null(), "{from}: {d}");
        assert!(r.json["appointment_id"].is_string(), "{from}: a tentative appointment");
    }
}

#[test]
fn import_preview_duplicates_choices_and_report() {
    let (server, _db) = TestServer::demo("contacts-import");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let before = ben.get("/api/persons").json.as_array().unwrap().len();

    // Outlook's CSV in Windows-1252: Bob Berg is known (bob@acme.example).
    let file = sample("outlook.csv");
    let r = ada.post("/api/contacts/import/preview", &json!({"content": file}));
    assert_eq!(r.status, 200, "{}", r.text());
    let p = &r.json;
    assert_eq!(
        (p["format"].as_str(), p["encoding"].as_str(), p["header"].as_bool()),
        (Some("csv"), Some("windows-1252"), Some(true))
    );
    assert_eq!(
        (p["total"].as_u64(), p["new"].as_u64(), p["duplicates"].as_u64(), p["refused"].as_u64()),
        (Some(4), Some(2), Some(1), Some(1))
    );
    assert_eq!(statuses(p), [(3, "duplicate".into()), (4, "refused".into()), (1, "new".into()), (2, "new".into())]);
    let dup = &p["rows"][0];
    assert_eq!(dup["existing"]["name"], "Bob Berg");
    let refused = &p["rows"][1];
    assert_eq!((refused["refusal"]["code"].as_str(), refused["line"].as_u64()), (Some("invalid_email"), Some(6)));
    assert_eq!(p["rows"][2]["contact"]["name"], "Jürgen Sæther");
    let job = p["columns"].as_array().unwrap().iter().find(|c| c["name"] == "Job Title").unwrap();
    assert_eq!(job["field"], "title");
    assert_eq!(ben.get("/api/persons").json.as_array().unwrap().len(), before, "a preview writes nothing");

    // Skip by default, but update Bob (row 3).
    let r = ada.post(
        "/api/contacts/import",
        &json!({"content": file, "on_duplicate": "skip", "choices": [{"row": 3, "choice": "update"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let rep = &r.json;
    assert_eq!(
        [&rep["created"], &rep["updated"], &rep["skipped"], &rep["refused"], &rep["companies_created"]],
        [&json!(2), &json!(1), &json!(0), &json!(1), &json!(2)],
        "{rep}"
    );
    assert_eq!(rep["refusals"][0]["refusal"]["code"], "invalid_email");
    let bob = person_named(&ben, "bob", "Bob Berg");
    assert_eq!(bob["emails"], json!(["bob@acme.example", "robert.berg@acme.example"]));
    let jurgen = person_named(&ben, "nordkapp", "Jürgen Sæther");
    assert_eq!(jurgen["company_name"], "Nordkapp Maskin AS");
    assert_eq!(jurgen["title"], "Innkjøpssjef");
    assert_eq!(jurgen["phone"], "+47 77 60 00 00");

    // The same file again: everything known now; `create` registers a second person.
    let again = ada.post("/api/contacts/import/preview", &json!({"content": file})).json;
    assert_eq!((again["new"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(3)));
    let r = ada.post("/api/contacts/import", &json!({"content": file, "choices": [{"row": 2, "choice": "create"}]}));
    assert_eq!((r.json["created"].as_u64(), r.json["skipped"].as_u64()), (Some(1), Some(2)), "{}", r.json);
    let zoes = ben.get("/api/persons?q=zoe.dupre").json;
    assert_eq!(zoes.as_array().unwrap().len(), 2);
    // A row now matching two persons is refused as ambiguous.
    let again = ada.post("/api/contacts/import/preview", &json!({"content": file})).json;
    let zoe = again["rows"].as_array().unwrap().iter().find(|r| r["row"] == 2).unwrap();
    assert_eq!(zoe["refusal"]["code"], "ambiguous");

    // Apple's and Google's vCards, and Google's CSV with a column mapping given.
    let r = ada.post("/api/contacts/import", &json!({"content": sample("apple.vcf"), "format": "vcard"}));
    assert_eq!(r.json["created"], 1, "{}", r.json);
    assert_eq!(person_named(&ben, "chidi", "Chidi Okafor")["company_name"], "Lagos Freight Ltd");
    let google = sample("google.csv");
    let p = ada.post("/api/contacts/import/preview", &json!({"content": google})).json;
    let fields: Vec<&str> = p["columns"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(fields.iter().filter(|f| **f == "email").count(), 2, "{fields:?}");
    // Mapping the organization's title away keeps Mei's record without one.
    let mapping: Vec<&str> = fields.iter().map(|f| if *f == "title" { "ignore" } else { f }).collect();
    let r = ada.post("/api/contacts/import", &json!({"content": google, "mapping": mapping}));
    assert_eq!((r.json["created"].as_u64(), r.json["refused"].as_u64()), (Some(3), Some(1)), "{}", r.json);
    assert!(person_named(&ben, "ingrid", "Ingrid Bergström")["title"].is_null());

    // Who may import.
    assert_eq!(ben.post("/api/contacts/import/preview", &json!({"content": google})).status, 403);
    assert_eq!(server.client().post("/api/contacts/import", &json!({"content": google})).status, 401);
}

#[test]
fn bad_files_get_clear_errors() {
    let (server, _db) = TestServer::demo("contacts-bad-files");
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let post = |body: Value| ada.post("/api/contacts/import/preview", &body);
    let r = post(json!({"content": "%%% not base64"}));
    assert_eq!((r.status, r.code()), (400, "bad_base64"));
    let r = post(json!({"content": ""}));
    assert_eq!((r.status, r.code()), (422, "empty_file"));
    let r = post(json!({"content": invitelink::base64::encode(b"a@x.example\n"), "mapping": ["email", "name"]}));
    assert_eq!((r.status, r.code()), (422, "bad_mapping"));
    let r = post(json!({"content": invitelink::base64::encode(b"Name,Email\n\"open,a@x.example\n"), "format": "csv"}));
    assert_eq!(r.status, 200, "an unclosed quote reads to the end: {}", r.text());
    let mut many = String::from("Name,Email\n");
    for i in 0..=invitelink::contacts_import::MAX_ROWS {
        many.push_str(&format!("P{i},p{i}@x.example\n"));
    }
    let r = post(json!({"content": invitelink::base64::encode(many.as_bytes())}));
    assert_eq!((r.status, r.code()), (422, "too_many_rows"));
    let big = vec![b'a'; invitelink::contacts_import::MAX_FILE_BYTES + 1];
    let r = post(json!({"content": invitelink::base64::encode(&big)}));
    assert_eq!((r.status, r.code()), (413, "too_large"));
    let r = post(json!({"content": invitelink::base64::encode(&big), "padding": "x".repeat(1024 * 1024)}));
    assert_eq!(r.status, 413, "the body limit");
}

#[test]
fn ten_thousand_contacts_in_one_import() {
    let (server, _db) = TestServer::demo("contacts-10k");
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let mut csv = String::from("First Name,Last Name,Company,Job Title,E-mail Address,E-mail 2 Address\r\n");
    for i in 0..10_000 {
        csv.push_str(&format!(
            "Given{i},Family{i},Company {},Buyer,p{i}@c{}.example,alt{i}@c{}.example\r\n",
            i % 250,
            i % 250,
            i % 250
        ));
    }
    let file = invitelink::base64::encode(csv.as_bytes());
    let p = ada.post("/api/contacts/import/preview", &json!({"content": file})).json;
    assert_eq!((p["total"].as_u64(), p["new"].as_u64()), (Some(10_000), Some(10_000)));
    assert_eq!(p["truncated"], true);
    let r = ada.post("/api/contacts/import", &json!({"content": file}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json["created"].as_u64(), r.json["companies_created"].as_u64()), (Some(10_000), Some(250)));
    let p = ada.post("/api/contacts/import/preview", &json!({"content": file})).json;
    assert_eq!((p["new"].as_u64(), p["duplicates"].as_u64()), (Some(0), Some(10_000)));
    let r = ada.post("/api/contacts/import", &json!({"content": file, "on_duplicate": "update"}));
    assert_eq!(r.json["updated"], 10_000);
    let found = ada.get("/api/persons?q=alt9999@c249.example").json;
    assert_eq!(found[0]["name"], "Given9999 Family9999");
}
