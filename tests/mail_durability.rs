#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SPEC 7 with mail on: a server killed at any moment while it works through
//! a full mailbox applies every message exactly once. N invitations (10,000
//! by default, `INVITELINK_DURABILITY_MESSAGES`) are appended over IMAP to a
//! folder of Ann's mailbox on the loopback Dovecot (`tests/mail/start-servers.sh`);
//! the `invitelink serve --mail-config` binary polls it and is killed with
//! SIGKILL at random moments (seed `INVITELINK_DURABILITY_SEED`, kills
//! `INVITELINK_DURABILITY_KILLS`), started again each time on the same SQLite
//! file, until the folder is empty. Then the database must hold one
//! appointment per invitation, and the outbox no message twice.
//!
//! Long: `cargo test --test mail_durability -- --ignored --nocapture`.

mod mail_support;
use mail_support::{
    IMAP_PORT, SMTP_PORT, ServeProcess, append_all, bob_invitation, env_number, folder_counts, servers, state_dir,
};
#[path = "server_support/mod.rs"]
mod support;

use invitelink_server::{CrmStore, demo};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Ada of the demo data, with her address moved to Ann's test mailbox.
const ANN: (&str, &str) = ("ann@crm.example", "ann-secret");

/// A small seeded generator (xorshift64*): the kill moments of a run are reproducible.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn uid(tag: &str, n: usize) -> String {
    format!("{tag}-{n}@acme.example")
}

/// The demo data, with Ada's address Ann's test mailbox and the CRM inbox the
/// test CRM mailbox.
async fn prepare(url: &str) {
    let store = CrmStore::open(url).await.unwrap();
    demo::seed(&store).await.unwrap();
    let mut tx = store.write().await.unwrap();
    sqlx::query("UPDATE associates SET email = 'ann@crm.example' WHERE email = 'ada@ourcompany.example'")
        .execute(tx.conn())
        .await
        .unwrap();
    sqlx::query("UPDATE system_preferences SET pref_value = 'crm@crm.example' WHERE name = 'crm_inbox'")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store.close().await;
}

/// Ann's mailbox polled (folder `folder`), the outbox sent through Postfix.
fn write_mail_config(path: &Path, folder: &str) {
    let ca = state_dir().join("tls/ca.pem");
    let ca = ca.display();
    let text = format!(
        "poll_interval_secs = 1\nmessage_id_domain = \"crm.example\"\n\n\
[smtp]\nhost = \"127.0.0.1\"\nport = {SMTP_PORT}\ntls = \"starttls\"\nuser = \"crm@crm.example\"\n\
password = \"crm-secret\"\nca_file = \"{ca}\"\nhello_name = \"test.crm.example\"\n\n\
[[inbox]]\nname = \"ann\"\naddress = \"{ann}\"\nhost = \"127.0.0.1\"\nport = {IMAP_PORT}\ntls = \"starttls\"\n\
user = \"{ann}\"\npassword = \"{pw}\"\nca_file = \"{ca}\"\nfolder = \"{folder}\"\n\
processed_folder = \"{folder}-done/processed\"\nrejected_folder = \"{folder}-done/rejected\"\nbatch = 50\n",
        ann = ANN.0,
        pw = ANN.1,
    );
    std::fs::write(path, text).unwrap();
}

#[test]
#[ignore = "long: run with cargo test --test mail_durability -- --ignored"]
fn a_server_killed_while_polling_applies_every_invitation_exactly_once() {
    if !servers() {
        return;
    }
    let n = env_number("INVITELINK_DURABILITY_MESSAGES", 10_000) as usize;
    let kills = env_number("INVITELINK_DURABILITY_KILLS", 5);
    let seed = env_number("INVITELINK_DURABILITY_SEED", 20_261_122);
    let bound = Duration::from_secs(env_number("INVITELINK_DURABILITY_TIMEOUT_SECS", 60 + n as u64 / 5));
    let mut rng = Rng(seed | 1);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let tag = format!("d{}x{nanos}", std::process::id());
    let (folder, processed, rejected) = (tag.clone(), format!("{tag}-done.processed"), format!("{tag}-done.rejected"));
    let folders = [folder.as_str(), processed.as_str(), rejected.as_str()];

    let dir = support::temp_dir("mail-durability");
    let url = format!("sqlite:{}", dir.join("crm.sqlite").display());
    let config = dir.join("mail.toml");
    let log = dir.join("server.log");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(prepare(&url));
    write_mail_config(&config, &folder);

    let started = Instant::now();
    let invitations = (0..n).map(|i| bob_invitation(&uid(&tag, i), ANN.0, i)).collect();
    rt.block_on(append_all(ANN.0, ANN.1, &folder, invitations));
    let appended_in = started.elapsed();
    assert_eq!(rt.block_on(folder_counts(ANN.0, ANN.1, &folders))[0] as usize, n, "the messages were not all appended");

    // Killed `kills` times at random moments while the folder still holds mail.
    let started = Instant::now();
    let mut server = ServeProcess::start(Path::new(env!("CARGO_BIN_EXE_invitelink")), &url, &config, &log);
    let mut done_kills = 0;
    let mut left_at_restart = n;
    let mut restarted = Instant::now();
    while done_kills < kills {
        std::thread::sleep(Duration::from_millis(300 + rng.below(2_700)));
        let left = rt.block_on(folder_counts(ANN.0, ANN.1, &folders))[0] as usize;
        if left == 0 {
            break;
        }
        server.assert_running(&log);
        server.kill();
        done_kills += 1;
        eprintln!("kill {done_kills} at {:.1} s with {left} messages left", started.elapsed().as_secs_f64());
        left_at_restart = left;
        restarted = Instant::now();
        server = ServeProcess::start(Path::new(env!("CARGO_BIN_EXE_invitelink")), &url, &config, &log);
    }

    // Drained within the bound.
    let last = loop {
        let c = rt.block_on(folder_counts(ANN.0, ANN.1, &folders));
        if c[0] == 0 {
            break c;
        }
        server.assert_running(&log);
        assert!(
            started.elapsed() < bound,
            "{} messages still in the folder after {} s; server log: {}",
            c[0],
            bound.as_secs(),
            log.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let total = started.elapsed();
    let after_restart = restarted.elapsed();
    // The outbox loop may still be sending; the appointments are all in.
    server.kill();
    assert_eq!(last[2], 0, "messages were rejected; server log: {}", log.display());
    assert_eq!(last[1] as usize, n, "the processed folder holds {} messages, not {n}", last[1]);

    let (per_uid, outbox_dups, processed_rows, outbox_rows) = rt.block_on(async {
        let store = CrmStore::open(&url).await.unwrap();
        let (ann_id,): (String,) = sqlx::query_as("SELECT id FROM associates WHERE email = ?")
            .bind(ANN.0)
            .fetch_one(store.pool())
            .await
            .unwrap();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT uid, COUNT(*) FROM appointments WHERE owner_id = ? AND uid LIKE ? GROUP BY uid")
                .bind(&ann_id)
                .bind(format!("{tag}-%"))
                .fetch_all(store.pool())
                .await
                .unwrap();
        let dups: Vec<(Option<String>, String, String, i64)> = sqlx::query_as(
            "SELECT appointment_id, method, recipient, COUNT(*) FROM outbox \
             GROUP BY appointment_id, method, recipient, ics HAVING COUNT(*) > 1",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let (processed_rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM processed_messages WHERE mailbox = ?")
            .bind(ANN.0)
            .fetch_one(store.pool())
            .await
            .unwrap();
        let (outbox_rows,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM outbox").fetch_one(store.pool()).await.unwrap();
        store.close().await;
        (rows.into_iter().collect::<HashMap<_, _>>(), dups, processed_rows, outbox_rows)
    });
    let missing: Vec<usize> = (0..n).filter(|i| !per_uid.contains_key(&uid(&tag, *i))).collect();
    let twice: Vec<(&String, &i64)> = per_uid.iter().filter(|(_, c)| **c != 1).collect();
    eprintln!(
        "{n} messages appended in {:.1} s; {done_kills} kills (seed {seed}); drained in {:.1} s ({:.0} messages/s); \
         {:.0} messages/s after the last restart ({left_at_restart} in {:.1} s); \
         {processed_rows} processed rows, {outbox_rows} outbox rows",
        appended_in.as_secs_f64(),
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        left_at_restart as f64 / after_restart.as_secs_f64(),
        after_restart.as_secs_f64(),
    );
    assert!(
        missing.is_empty(),
        "{} invitations were lost, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        twice.is_empty(),
        "{} invitations were applied more than once: {:?}",
        twice.len(),
        &twice[..twice.len().min(10)]
    );
    assert_eq!(per_uid.len(), n);
    assert!(outbox_dups.is_empty(), "the outbox holds messages twice: {outbox_dups:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
