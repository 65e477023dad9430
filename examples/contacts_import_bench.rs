//! The contacts import measured (docs/contacts-import.md): 10,000 contacts
//! as an Outlook-layout CSV and as vCard 3.0, read, previewed against the
//! store, imported in one transaction, and imported again as updates.
//!
//! ```text
//! cargo run --example contacts_import_bench                 # SQLite, temp file
//! cargo run --release --example contacts_import_bench
//! cargo run --example contacts_import_bench -- postgres://user@host/db   # an empty database
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use invitelink::contacts_import::{Options, parse};
use invitelink_server::contacts::{DuplicateChoice, import, preview};
use invitelink_server::store::Store;
use std::time::Instant;

const CONTACTS: usize = 10_000;

fn csv() -> String {
    let mut s = String::from(
        "\"Title\",\"First Name\",\"Middle Name\",\"Last Name\",\"Company\",\"Job Title\",\"Business Phone\",\
         \"E-mail Address\",\"E-mail Type\",\"E-mail 2 Address\",\"Notes\"\r\n",
    );
    for i in 0..CONTACTS {
        let c = i % 400;
        s.push_str(&format!(
            "\"\",\"Given{i}\",\"\",\"Family{i}\",\"Company {c}\",\"Buyer\",\"+47 555 {i:05}\",\"p{i}@c{c}.example\",\
             \"SMTP\",\"alt{i}@c{c}.example\",\"Met at the fair, \"\"hall B\"\"\r\nsecond line\"\r\n"
        ));
    }
    s
}

fn vcards() -> String {
    let mut s = String::new();
    for i in 0..CONTACTS {
        let c = i % 400;
        s.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Family{i};Given{i};;;\r\nFN:Given{i} Family{i}\r\nORG:Company {c};Sales\r\n\
             TITLE:Buyer\r\nitem1.EMAIL;TYPE=INTERNET;TYPE=pref:v{i}@c{c}.example\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n\
             EMAIL;TYPE=INTERNET;TYPE=WORK:valt{i}@c{c}.example\r\nTEL;TYPE=CELL:+47 555 {i:05}\r\n\
             NOTE:A note long enough to be folded by the exporting application at seventy-fi\r\n ve octets.\r\n\
             END:VCARD\r\n"
        ));
    }
    s
}

async fn run(store: &Store, label: &str, bytes: &[u8]) {
    let t = Instant::now();
    let parsed = parse(bytes, &Options::default()).expect("the generated file reads");
    let read = t.elapsed();
    let t = Instant::now();
    let mut conn = store.read().await.unwrap();
    let p = preview(&mut conn, &parsed).await.unwrap();
    drop(conn);
    let previewed = t.elapsed();
    let t = Instant::now();
    let mut tx = store.write().await.unwrap();
    let report = import(tx.conn(), &parsed, &|_| DuplicateChoice::Skip).await.unwrap();
    tx.commit().await.unwrap();
    let imported = t.elapsed();
    let t = Instant::now();
    let mut tx = store.write().await.unwrap();
    let again = import(tx.conn(), &parsed, &|_| DuplicateChoice::Update).await.unwrap();
    tx.commit().await.unwrap();
    let updated = t.elapsed();
    println!(
        "{label:<8} {:>6.1} MB  read {:>7.1} ms  preview {:>7.1} ms ({} new)  import {:>7.1} ms ({} created, {} companies)  \
         re-import as updates {:>7.1} ms ({} updated)",
        bytes.len() as f64 / 1e6,
        read.as_secs_f64() * 1e3,
        previewed.as_secs_f64() * 1e3,
        p.new,
        imported.as_secs_f64() * 1e3,
        report.created,
        report.companies_created,
        updated.as_secs_f64() * 1e3,
        again.updated,
    );
}

#[tokio::main]
async fn main() {
    let arg = std::env::args().nth(1);
    let dir = std::env::temp_dir().join(format!("invitelink-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = arg.unwrap_or_else(|| format!("sqlite:{}", dir.join("crm.sqlite").display()));
    let store = Store::open(&url).await.expect("the database opens");
    println!(
        "{CONTACTS} contacts per file, one transaction per import, {} build, {}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        invitelink_server::store::display_url(&url)
    );
    run(&store, "CSV", csv().as_bytes()).await;
    run(&store, "vCard", vcards().as_bytes()).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
