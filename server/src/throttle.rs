//! The sign-in throttle: password attempts counted per account and per
//! client address in a sliding window; over the limit, the answer is 429
//! with `Retry-After` and no password is checked.
//!
//! An attempt counts when it starts (so a burst of parallel guesses is
//! counted too) and is forgiven when it succeeds. Addresses are counted by
//! IPv4 address, or by IPv6 /64 network (one host usually holds a whole /64).
//! The counts live in memory: a restart forgets them.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failed attempts are allowed in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Attempts per account (e-mail address, known or not) in a window.
    pub per_account: usize,
    /// Attempts per client address in a window.
    pub per_address: usize,
    /// The sliding window.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    /// 5 per account and 20 per address in 15 minutes.
    fn default() -> Self {
        ThrottlePolicy { per_account: 5, per_address: 20, window: Duration::from_secs(15 * 60) }
    }
}

/// The most accounts and addresses tracked at once; past it, expired
/// entries are dropped, and new keys are not tracked until there is room
/// (the other key of an attempt, and the bound on password hashing, still
/// apply).
const MAX_KEYS: usize = 100_000;

/// The longest account name kept, in bytes.
const MAX_ACCOUNT_BYTES: usize = 320;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// A started attempt, to forgive when it succeeds.
#[derive(Debug, Clone)]
pub struct Attempt {
    keys: Vec<Key>,
    at: Instant,
}

/// The attempts of the last window, by account and address.
#[derive(Debug, Default)]
pub struct Throttle {
    policy: ThrottlePolicy,
    attempts: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

fn account_key(account: &str) -> Key {
    let mut end = account.len().min(MAX_ACCOUNT_BYTES);
    while !account.is_char_boundary(end) {
        end -= 1;
    }
    Key::Account(account.get(..end).unwrap_or_default().to_owned())
}

fn address_key(address: IpAddr) -> Key {
    match address {
        IpAddr::V4(_) => Key::Address(address),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Key::Address(IpAddr::V4(v4)),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                Key::Address(IpAddr::V6(bits.into()))
            }
        },
    }
}

impl Throttle {
    /// A throttle with `policy`.
    pub fn new(policy: ThrottlePolicy) -> Throttle {
        Throttle { policy, attempts: Mutex::new(HashMap::new()) }
    }

    /// Starts an attempt for `account` (the lower-case e-mail address) from
    /// `address`; `Err(wait)` when either is over its limit, with how long
    /// until the oldest attempt leaves the window.
    pub fn begin(&self, account: &str, address: Option<IpAddr>, now: Instant) -> Result<Attempt, Duration> {
        let mut keys = vec![(account_key(account), self.policy.per_account)];
        if let Some(a) = address {
            keys.push((address_key(a), self.policy.per_address));
        }
        let mut map = self.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = self.policy.window;
        let mut wait = Duration::ZERO;
        for (key, limit) in &keys {
            if let Some(list) = map.get_mut(key) {
                while list.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
                    list.pop_front();
                }
                if list.len() >= *limit
                    && let Some(oldest) = list.front()
                {
                    wait = wait.max(window.saturating_sub(now.saturating_duration_since(*oldest)));
                }
            }
        }
        if !wait.is_zero() {
            return Err(wait.max(Duration::from_secs(1)));
        }
        if map.len() + keys.len() > MAX_KEYS {
            map.retain(|_, list| list.back().is_some_and(|t| now.saturating_duration_since(*t) < window));
        }
        for (key, _) in &keys {
            if let Some(list) = map.get_mut(key) {
                list.push_back(now);
            } else if map.len() < MAX_KEYS {
                map.insert(key.clone(), VecDeque::from([now]));
            }
        }
        Ok(Attempt { keys: keys.into_iter().map(|(k, _)| k).collect(), at: now })
    }

    /// Forgives a successful attempt: the account's count starts again, and
    /// the address's count loses this attempt.
    pub fn succeeded(&self, attempt: &Attempt) {
        let mut map = self.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for key in &attempt.keys {
            match key {
                Key::Account(_) => {
                    map.remove(key);
                }
                Key::Address(_) => {
                    if let Some(list) = map.get_mut(key)
                        && let Some(i) = list.iter().position(|t| *t == attempt.at)
                    {
                        list.remove(i);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn attempts_are_limited_per_account_and_address() {
        let t = Throttle::new(ThrottlePolicy { per_account: 2, per_address: 3, window: Duration::from_secs(60) });
        let start = Instant::now();
        let home: IpAddr = "192.0.2.1".parse().unwrap();
        t.begin("ben@x", Some(home), start).unwrap();
        t.begin("ben@x", Some(home), start).unwrap();
        let wait = t.begin("ben@x", Some(home), start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        // Another account from the same address: one more, then the address is full.
        t.begin("cara@x", Some(home), start).unwrap();
        assert!(t.begin("dan@x", Some(home), start).is_err());
        // The window slides.
        assert!(t.begin("ben@x", None, start + Duration::from_secs(61)).is_ok());
        // A success forgives the account.
        let ok = t.begin("eve@x", None, start).unwrap();
        t.begin("eve@x", None, start).unwrap();
        t.succeeded(&ok);
        assert!(t.begin("eve@x", None, start).is_ok());
        // IPv6 hosts of one /64 count together.
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        for n in 0..3 {
            t.begin(&format!("v6-{n}@x"), Some(a), start).unwrap();
        }
        assert!(t.begin("v6-9@x", Some(b), start).is_err());
    }
}
