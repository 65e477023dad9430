//! Timing: samples taken round-robin over a group of cases, so that a noisy
//! neighbour on the machine slows every case of a group alike and the ratios
//! stay meaningful; the median and the spread (min, max) of each case.
//!
//! Rates are per second of the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`):
//! on a shared machine the wall clock also counts the time other processes
//! held the core. The wall-clock median is given beside it.

use cpu_time::ThreadTime;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// One thing to time: a pass over some input, returning a count that keeps
/// the work observable (so the optimiser cannot drop it).
pub struct Case<'a> {
    /// Name shown in the table.
    pub name: String,
    /// One pass.
    pub run: Box<dyn FnMut() -> usize + 'a>,
    /// Units of work per pass (bytes, messages, occurrences), one per column.
    pub units: Vec<f64>,
}

/// The timings of one case.
pub struct Timing {
    /// Case name.
    pub name: String,
    /// CPU seconds per pass, sorted.
    pub seconds: Vec<f64>,
    /// Wall-clock seconds per pass, sorted.
    pub wall: Vec<f64>,
    /// Units per pass, as given.
    pub units: Vec<f64>,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

impl Timing {
    /// Median CPU seconds per pass.
    pub fn median(&self) -> f64 {
        median(&self.seconds)
    }

    /// Rate of unit column `i` per CPU second at the median, and the spread
    /// (rate at the slowest pass, rate at the fastest pass).
    pub fn rate(&self, i: usize) -> (f64, f64, f64) {
        let u = self.units.get(i).copied().unwrap_or(f64::NAN);
        let slowest = self.seconds.last().copied().unwrap_or(f64::NAN);
        let fastest = self.seconds.first().copied().unwrap_or(f64::NAN);
        (u / self.median(), u / slowest, u / fastest)
    }

    /// Rate of unit column `i` per wall-clock second at the median.
    pub fn wall_rate(&self, i: usize) -> f64 {
        self.units.get(i).copied().unwrap_or(f64::NAN) / median(&self.wall)
    }
}

/// The CPU time of this thread, falling back to the wall clock where the
/// system has no thread clock.
fn cpu_now() -> Option<ThreadTime> {
    ThreadTime::try_now().ok()
}

fn cpu_since(start: &Option<ThreadTime>, wall: Duration) -> f64 {
    start.as_ref().and_then(|t| t.try_elapsed().ok()).unwrap_or(wall).as_secs_f64()
}

/// Times every case of `cases`: one warm-up pass each (which also decides
/// how many passes make one sample of at least `min_sample`), then `samples`
/// rounds, each round taking one sample of every case in turn.
pub fn run_group(cases: Vec<Case<'_>>, samples: usize, min_sample: Duration) -> Vec<Timing> {
    let mut cases = cases;
    let mut reps = Vec::with_capacity(cases.len());
    for c in cases.iter_mut() {
        let t = Instant::now();
        let cpu = cpu_now();
        black_box((c.run)());
        let once = cpu_since(&cpu, t.elapsed()).max(1e-9);
        let r = (min_sample.as_secs_f64() / once).ceil().clamp(1.0, 1_000_000.0) as usize;
        reps.push(r);
    }
    let mut seconds: Vec<Vec<f64>> = vec![Vec::with_capacity(samples); cases.len()];
    let mut wall: Vec<Vec<f64>> = vec![Vec::with_capacity(samples); cases.len()];
    for _ in 0..samples {
        for (i, c) in cases.iter_mut().enumerate() {
            let t = Instant::now();
            let cpu = cpu_now();
            for _ in 0..reps[i] {
                black_box((c.run)());
            }
            let w = t.elapsed();
            seconds[i].push(cpu_since(&cpu, w) / reps[i] as f64);
            wall[i].push(w.as_secs_f64() / reps[i] as f64);
        }
    }
    cases
        .into_iter()
        .zip(seconds.into_iter().zip(wall))
        .map(|(c, (mut s, mut w))| {
            s.sort_by(f64::total_cmp);
            w.sort_by(f64::total_cmp);
            Timing { name: c.name, seconds: s, wall: w, units: c.units }
        })
        .collect()
}
