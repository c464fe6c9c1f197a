//! The accept-rate gate (--max-accept-rate) of a native listener: the token bucket of
//! src/transports/accept-gate.ts, so a storm waits in the kernel's backlog instead of costing the
//! established clients their latency.

/// The bucket holds this many milliseconds of the rate: bursts stay short, pauses rare.
const BUCKET_MS: f64 = 2.0;

/// A token bucket counting accepted connections.
pub struct Gate {
    rate: f64,
    capacity: f64,
    tokens: f64,
    at_ms: f64,
}

impl Gate {
    /// A full bucket for `rate` connections a second (> 0).
    pub fn new(rate: f64, now_ms: f64) -> Gate {
        let capacity = (rate * BUCKET_MS / 1000.0).max(1.0);
        Gate { rate, capacity, tokens: capacity, at_ms: now_ms }
    }

    /// Counts one accepted connection; Some(ms) when accepting must pause that long (until the
    /// bucket is full again, so pauses stay BUCKET_MS apart at least).
    pub fn take(&mut self, now_ms: f64) -> Option<f64> {
        self.tokens = (self.tokens + (now_ms - self.at_ms) * self.rate / 1000.0).min(self.capacity);
        self.at_ms = now_ms;
        self.tokens -= 1.0;
        if self.tokens >= 1.0 {
            return None;
        }
        Some((((self.capacity - self.tokens) * 1000.0) / self.rate).max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_above_the_rate_pauses_until_the_bucket_refills() {
        // 10,000/s: a bucket of 20 connections.
        let mut g = Gate::new(10_000.0, 0.0);
        for i in 0..19 {
            assert_eq!(g.take(0.0), None, "connection {i}");
        }
        let wait = g.take(0.0).expect("the 20th connection empties the bucket");
        assert!((wait - 2.0).abs() < 1e-9, "waits {wait} ms for 20 tokens at 10/ms");
        // After the wait the bucket is full again.
        for i in 0..19 {
            assert_eq!(g.take(wait), None, "after the pause, connection {i}");
        }
    }

    #[test]
    fn a_slow_rate_waits_at_least_one_millisecond_and_never_a_negative_time() {
        let mut g = Gate::new(100.0, 0.0);
        let wait = g.take(0.0).expect("capacity 1: the first takes the only token");
        assert!((wait - 10.0).abs() < 1e-9, "{wait}");
        assert_eq!(g.take(10_000.0), Some(10.0));
    }
}
