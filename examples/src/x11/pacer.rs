//! When `rfb-x11-server` captures: a small sans-IO state machine fed with damage
//! arrivals and the current time (it never reads the clock itself).
//!
//! * **Event-driven**: the first damage after a quiet spell starts a short coalescing
//!   window; the capture happens once no new damage came for [`Pacer::QUIET`], and at
//!   the latest [`Pacer::MAX_COALESCE`] after that first damage, so one redraw made of
//!   several requests (a glyph, then the cursor) is fetched in one pass.
//! * **Rate cap**: two damage captures are never closer than the period (`1 / --fps`);
//!   damage arriving sooner waits for the period to end. The once-a-second safety net
//!   below does not count (it would otherwise delay the answer to a key by up to a
//!   period now and then).
//! * **Safety net**: a full capture every `full_every` even when nothing was reported
//!   (what DAMAGE misses, the Session's tile diff still finds). Without DAMAGE
//!   (`polling`), the whole screen is captured every period instead.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rfb_examples::x11::pacer::{Capture, Pacer};
//! let t0 = Instant::now();
//! let mut p = Pacer::new(t0, Duration::from_millis(16), Duration::from_secs(1), false);
//! assert_eq!(p.poll(t0), None); // nothing reported yet
//! let t = t0 + Duration::from_millis(100);
//! p.damaged(t);
//! assert_eq!(p.poll(t), None); // coalescing
//! assert_eq!(p.poll(t + Pacer::QUIET), Some(Capture::Damage));
//! ```

use std::time::{Duration, Instant};

/// What to capture now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// The damage collected since the last capture.
    Damage,
    /// The whole screen (the periodic safety net, or polling without DAMAGE).
    Full,
}

/// Decides when to capture; see the module doc.
#[derive(Debug, Clone)]
pub struct Pacer {
    period: Duration,
    full_every: Duration,
    polling: bool,
    /// The first damage not yet captured, and the latest one.
    pending: Option<(Instant, Instant)>,
    /// The last capture that counts for the rate cap.
    last_capture: Instant,
    last_full: Instant,
}

impl Pacer {
    /// A capture waits until no damage arrived for this long...
    pub const QUIET: Duration = Duration::from_millis(1);
    /// ...but never longer than this after the first damage.
    pub const MAX_COALESCE: Duration = Duration::from_millis(4);

    /// A pacer starting at `now` (just after a full capture) with at most one capture
    /// per `period`, a full capture every `full_every`, and `polling` when the display
    /// reports no damage.
    pub fn new(now: Instant, period: Duration, full_every: Duration, polling: bool) -> Pacer {
        Pacer {
            period,
            full_every,
            polling,
            pending: None,
            last_capture: now,
            last_full: now,
        }
    }

    /// Damage was reported at `now`.
    pub fn damaged(&mut self, now: Instant) {
        self.pending = Some(match self.pending {
            Some((first, _)) => (first, now),
            None => (now, now),
        });
    }

    fn earliest(&self) -> Instant {
        self.last_capture + self.period
    }

    fn full_due(&self) -> Instant {
        if self.polling {
            self.earliest()
        } else {
            self.last_full + self.full_every
        }
    }

    fn damage_due(&self) -> Option<Instant> {
        let (first, last) = self.pending?;
        let settled = (last + Self::QUIET).min(first + Self::MAX_COALESCE);
        Some(settled.max(self.earliest()))
    }

    /// When [`poll`](Self::poll) next has something to do (wait until then, or until
    /// the next damage).
    pub fn poll_timeout(&self) -> Instant {
        let full = self.full_due();
        match self.damage_due() {
            Some(d) => d.min(full),
            None => full,
        }
    }

    /// What to capture at `now`, if anything; the caller captures it right away.
    pub fn poll(&mut self, now: Instant) -> Option<Capture> {
        let what = if now >= self.full_due() {
            self.last_full = now;
            if self.polling {
                self.last_capture = now;
            }
            Capture::Full
        } else if self.damage_due().is_some_and(|d| now >= d) {
            self.last_capture = now;
            Capture::Damage
        } else {
            return None;
        };
        self.pending = None;
        Some(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn pacer(t0: Instant) -> Pacer {
        Pacer::new(t0, 16 * MS, Duration::from_secs(1), false)
    }

    #[test]
    fn a_lone_damage_is_captured_after_the_quiet_time() {
        let t0 = Instant::now();
        let mut p = pacer(t0);
        let t = t0 + 100 * MS;
        p.damaged(t);
        assert_eq!(p.poll_timeout(), t + Pacer::QUIET);
        assert_eq!(p.poll(t), None);
        assert_eq!(p.poll(t + Pacer::QUIET), Some(Capture::Damage));
        // Nothing pending any more: next is the full capture a second after t0.
        assert_eq!(p.poll_timeout(), t0 + Duration::from_secs(1));
        assert_eq!(p.poll(t + 2 * MS), None);
    }

    #[test]
    fn a_stream_of_damage_is_captured_after_the_coalescing_limit() {
        let t0 = Instant::now();
        let mut p = pacer(t0);
        let t = t0 + 100 * MS;
        for i in 0..10u32 {
            p.damaged(t + i * MS / 2);
        }
        assert_eq!(p.poll_timeout(), t + Pacer::MAX_COALESCE);
        assert_eq!(p.poll(t + 3 * MS), None);
        assert_eq!(p.poll(t + Pacer::MAX_COALESCE), Some(Capture::Damage));
    }

    #[test]
    fn captures_are_at_least_a_period_apart() {
        let t0 = Instant::now();
        let mut p = pacer(t0);
        p.damaged(t0 + 2 * MS);
        // The start counts as a capture: the damage waits for t0 + 16 ms.
        assert_eq!(p.poll_timeout(), t0 + 16 * MS);
        assert_eq!(p.poll(t0 + 10 * MS), None);
        assert_eq!(p.poll(t0 + 16 * MS), Some(Capture::Damage));
        p.damaged(t0 + 17 * MS);
        assert_eq!(p.poll(t0 + 20 * MS), None);
        assert_eq!(p.poll(t0 + 32 * MS), Some(Capture::Damage));
    }

    #[test]
    fn the_safety_net_captures_everything_and_clears_the_damage() {
        let t0 = Instant::now();
        let mut p = pacer(t0);
        assert_eq!(p.poll(t0 + 999 * MS), None);
        p.damaged(t0 + 999 * MS);
        assert_eq!(p.poll(t0 + 1000 * MS), Some(Capture::Full));
        assert_eq!(p.poll(t0 + 1010 * MS), None);
        assert_eq!(p.poll_timeout(), t0 + 2000 * MS);
        // It does not hold back the next damage (not a capture for the rate cap).
        p.damaged(t0 + 1002 * MS);
        assert_eq!(p.poll(t0 + 1002 * MS + Pacer::QUIET), Some(Capture::Damage));
    }

    #[test]
    fn without_damage_the_screen_is_polled_every_period() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 16 * MS, Duration::from_secs(1), true);
        assert_eq!(p.poll_timeout(), t0 + 16 * MS);
        assert_eq!(p.poll(t0 + 15 * MS), None);
        assert_eq!(p.poll(t0 + 16 * MS), Some(Capture::Full));
        assert_eq!(p.poll_timeout(), t0 + 32 * MS);
    }
}
