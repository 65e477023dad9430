//! A sorted list of domains or suffix rules in the compact form `cargo xtask
//! gen-trust-data` writes (see `xtask/src/trust_data.rs`): labels reversed,
//! sorted by bytes, front-coded, the shared prefix restarting every
//! [`BLOCK`] entries. Searched in place: a binary search over the blocks'
//! first entries, then a walk through one block.

use std::cmp::Ordering;

/// Entries per block (as the generator writes them).
const BLOCK: usize = 16;

/// A compact list and where each of its blocks starts.
#[derive(Debug)]
pub struct List {
    data: &'static [u8],
    blocks: Vec<usize>,
}

impl List {
    /// Indexes the blocks of `data` (one pass over it).
    pub fn new(data: &'static [u8]) -> List {
        let mut blocks = Vec::new();
        let mut at = 0;
        let mut entry = 0usize;
        while at < data.len() {
            if entry.is_multiple_of(BLOCK) {
                blocks.push(at);
            }
            // The first byte is a length, which may be a line feed's value.
            at = data.get(at + 1..).and_then(|rest| memchr::memchr(b'\n', rest)).map_or(data.len(), |i| at + i + 2);
            entry += 1;
        }
        List { data, blocks }
    }

    /// Whether the list holds `entry` (given in its usual order, `co.uk`).
    pub fn contains(&self, entry: &str) -> bool {
        let key = reversed_labels(entry);
        let key = key.as_bytes();
        // The last block whose first entry is not after the key.
        let first = |&start: &usize| self.data.get(start + 1..).map_or(&[][..], |rest| line(rest));
        let block = match self.blocks.binary_search_by(|b| first(b).cmp(key)) {
            Ok(_) => return true,
            Err(0) => return false,
            Err(i) => i - 1,
        };
        let Some(&start) = self.blocks.get(block) else { return false };
        let mut current: Vec<u8> = Vec::new();
        let mut at = start;
        for _ in 0..BLOCK {
            let Some((&shared, rest)) = self.data.get(at..).and_then(<[u8]>::split_first) else { return false };
            let suffix = line(rest);
            current.truncate(usize::from(shared));
            current.extend_from_slice(suffix);
            match current.as_slice().cmp(key) {
                Ordering::Equal => return true,
                Ordering::Greater => return false,
                Ordering::Less => at += 1 + suffix.len() + 1,
            }
        }
        false
    }
}

/// The bytes up to the next line feed.
fn line(bytes: &[u8]) -> &[u8] {
    memchr::memchr(b'\n', bytes).and_then(|i| bytes.get(..i)).unwrap_or(bytes)
}

/// An entry's labels in reverse order: `mail.example.com` -> `com.example.mail`.
fn reversed_labels(entry: &str) -> String {
    let mut out = String::with_capacity(entry.len());
    for (i, label) in entry.rsplit('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(label);
    }
    out
}
