//! Fence-based flow control for continuous updates (sans-IO: time is passed in).
//!
//! With continuous updates the viewer never asks for the next update, so the server must
//! find out by itself how much it may send without filling every buffer between it and
//! the viewer (which would make the picture lag by seconds). After each update the
//! connection sends a Fence request with BlockBefore (the viewer answers it only after
//! it has processed everything sent before it) and a payload naming the fence. The
//! answer acknowledges every byte queued up to that fence and gives a round-trip time.
//!
//! Bytes in flight = bytes queued for the viewer − bytes acknowledged by fence answers.
//! No update is written while that exceeds the congestion window, so a viewer that never
//! answers gets at most the window (plus the one update that crossed it).
//!
//! The window follows TigerVNC's design, a delay-based (TCP Vegas-like) controller:
//! the lowest RTT seen is the wire latency ("base RTT"); the window is the bytes the
//! link carries in one base RTT, found by watching how much the RTT grows above the
//! base as the window changes. It starts at [`INITIAL_WINDOW`]; after every
//! [`MEASUREMENTS_PER_ROUND`] answers it is adjusted:
//!
//! - slow start: while answers to fences sent with a full window come back within
//!   [`SLOW_START_EXIT`] of the base RTT, the window doubles; when the RTT grows more
//!   than that, the window is scaled by base/measured RTT (≈ bandwidth × base RTT) and
//!   slow start ends;
//! - afterwards: an RTT more than [`QUEUE_HIGH`] above the base shrinks the window by
//!   [`STEP`]; answers to full-window fences within [`QUEUE_TINY`] grow it by 2 × STEP,
//!   within [`QUEUE_LOW`] by STEP;
//! - a latency spike (more than [`SPIKE`] and half the base RTT above it) is taken as
//!   loss: scale down by base/measured RTT at once;
//! - always within [`MIN_WINDOW`]..=[`MAX_WINDOW`];
//! - answers to fences sent before the last change of the window are not samples of
//!   the new window (but a round that changed nothing keeps them);
//! - after an idle period (nothing written for [`IDLE_RESET`] and twice the base RTT)
//!   the estimate restarts (the window shrinks back to at most [`INITIAL_WINDOW`]).
//!
//! Unlike TigerVNC, the estimate of data sitting in over-full buffers (which it
//! subtracts from RTT samples) and the interpolation of acknowledged bytes between
//! answers are left out: acknowledgement is exact (at fence answers only), which errs
//! on the side of sending less.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes};
use rfb_proto::Fence;

/// The window before any measurement: enough to get going on a LAN, quickly reduced if
/// the link is slower (TigerVNC uses the same).
pub(crate) const INITIAL_WINDOW: u64 = 16 << 10;
/// The smallest window (a guess at TCP's minimum of a few segments).
pub(crate) const MIN_WINDOW: u64 = 4 << 10;
/// The largest window (Linux's default largest TCP send buffer).
pub(crate) const MAX_WINDOW: u64 = 4 << 20;
/// Answers per adjustment: single samples are too noisy.
pub(crate) const MEASUREMENTS_PER_ROUND: u32 = 3;
/// Extra delay that ends slow start.
pub(crate) const SLOW_START_EXIT: Duration = Duration::from_millis(25);
/// Extra delay above which the window shrinks.
pub(crate) const QUEUE_HIGH: Duration = Duration::from_millis(50);
/// Extra delay below which a full window grows fast.
pub(crate) const QUEUE_TINY: Duration = Duration::from_millis(5);
/// Extra delay below which a full window grows.
pub(crate) const QUEUE_LOW: Duration = Duration::from_millis(25);
/// Extra delay taken as a loss.
pub(crate) const SPIKE: Duration = Duration::from_millis(100);
/// Window step in congestion avoidance.
pub(crate) const STEP: u64 = 4 << 10;
/// Idle time after which the estimate restarts.
pub(crate) const IDLE_RESET: Duration = Duration::from_millis(100);
/// Unanswered fences kept at most; with this many outstanding, no update is sent (so a
/// viewer that never answers cannot make the queue grow with many tiny updates).
pub(crate) const MAX_OUTSTANDING: usize = 32;
/// Shortest RTT sample (guards the divisions; loopback answers in microseconds).
const MIN_RTT: Duration = Duration::from_micros(100);
/// First payload byte of our flow-control fences (followed by a 4-byte sequence
/// number). The initial fence announcing support has an empty payload.
const TAG: u8 = b'F';

/// One fence sent and not yet answered.
#[derive(Debug, Clone, Copy)]
struct Ping {
    seq: u32,
    /// Stream position just after the fence.
    pos: u64,
    /// When it was queued (`None`: the caller gave no time, no RTT sample).
    at: Option<Instant>,
    /// Whether the window was full when it was sent.
    congested: bool,
}

/// The flow-control state of one viewer.
#[derive(Debug)]
pub(crate) struct Congestion {
    pings: VecDeque<Ping>,
    next_seq: u32,
    /// Stream position acknowledged by the last answer.
    acked: u64,
    window: u64,
    slow_start: bool,
    base_rtt: Option<Duration>,
    last_rtt: Option<Duration>,
    /// Samples of the current round.
    min_rtt: Option<Duration>,
    min_congested_rtt: Option<Duration>,
    measurements: u32,
    /// Fences sent before this are not measurements of the current window.
    last_adjustment: Option<Instant>,
    /// Last time an update was written.
    last_sent: Option<Instant>,
}

impl Default for Congestion {
    fn default() -> Congestion {
        Congestion {
            pings: VecDeque::new(),
            next_seq: 0,
            acked: 0,
            window: INITIAL_WINDOW,
            slow_start: true,
            base_rtt: None,
            last_rtt: None,
            min_rtt: None,
            min_congested_rtt: None,
            measurements: 0,
            last_adjustment: None,
            last_sent: None,
        }
    }
}

impl Congestion {
    /// The congestion window, in bytes.
    pub(crate) fn window(&self) -> u64 {
        self.window
    }

    /// The last measured round-trip time.
    pub(crate) fn rtt(&self) -> Option<Duration> {
        self.last_rtt
    }

    /// Unacknowledged bytes, given the current stream position.
    pub(crate) fn in_flight(&self, pos: u64) -> u64 {
        pos.saturating_sub(self.acked)
    }

    /// True while no update may be written.
    pub(crate) fn is_congested(&self, pos: u64) -> bool {
        self.in_flight(pos) >= self.window || self.pings.len() >= MAX_OUTSTANDING
    }

    /// True if congested with no fence outstanding: nothing would ever clear it, so a
    /// fence must be sent (bytes other than updates, such as clipboard text, were
    /// queued after the last fence).
    pub(crate) fn needs_fence(&self, pos: u64) -> bool {
        self.pings.is_empty() && self.in_flight(pos) >= self.window
    }

    /// Called before writing an update at `now`: restarts the estimate after idleness.
    pub(crate) fn before_update(&mut self, now: Option<Instant>) {
        let (Some(now), Some(last)) = (now, self.last_sent) else {
            return;
        };
        let idle = now.saturating_duration_since(last);
        let base = self.base_rtt.unwrap_or(Duration::ZERO);
        if self.pings.is_empty() && idle > IDLE_RESET && idle > base * 2 {
            self.window = self.window.min(INITIAL_WINDOW);
            self.base_rtt = None;
            self.slow_start = true;
            self.reset_round(Some(now));
        }
    }

    /// Appends a flow-control fence to `out`; `pos_after` computes the stream position
    /// just after it (from the new length of `out`).
    pub(crate) fn send_fence(
        &mut self,
        out: &mut bytes::BytesMut,
        pos_after: impl FnOnce(&bytes::BytesMut) -> u64,
        now: Option<Instant>,
        is_update: bool,
    ) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let mut payload = Vec::with_capacity(5);
        payload.put_u8(TAG);
        payload.put_u32(seq);
        Fence {
            flags: Fence::REQUEST | Fence::BLOCK_BEFORE,
            payload: Bytes::from(payload),
        }
        .encode(out);
        let pos = pos_after(out);
        let congested = self.is_congested(pos);
        self.pings.push_back(Ping {
            seq,
            pos,
            at: now,
            congested,
        });
        if is_update && now.is_some() {
            self.last_sent = now;
        }
    }

    /// A fence response arrived (at `now`, if known). Returns whether it answered one of
    /// our flow-control fences.
    pub(crate) fn on_response(&mut self, fence: &Fence, now: Option<Instant>) -> bool {
        let p = &fence.payload[..];
        if p.len() != 5 || p[0] != TAG {
            return false;
        }
        let seq = u32::from_be_bytes([p[1], p[2], p[3], p[4]]);
        let Some(i) = self.pings.iter().position(|ping| ping.seq == seq) else {
            return false;
        };
        // Answers come in order: the earlier ones are answered implicitly.
        let mut ping = None;
        for _ in 0..=i {
            ping = self.pings.pop_front();
        }
        let Some(ping) = ping else {
            return false;
        };
        self.acked = self.acked.max(ping.pos);
        if let (Some(sent), Some(now)) = (ping.at, now) {
            self.sample(ping, now.saturating_duration_since(sent).max(MIN_RTT), now);
        }
        true
    }

    fn sample(&mut self, ping: Ping, rtt: Duration, now: Instant) {
        self.last_rtt = Some(rtt);
        let base = self.base_rtt.map_or(rtt, |b| b.min(rtt));
        self.base_rtt = Some(base);
        // Fences sent before the last change do not measure the current window.
        if self
            .last_adjustment
            .is_some_and(|t| ping.at.is_some_and(|at| at < t))
        {
            return;
        }
        self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        if ping.congested {
            self.min_congested_rtt = Some(self.min_congested_rtt.map_or(rtt, |m| m.min(rtt)));
        }
        self.measurements += 1;
        if self.measurements >= MEASUREMENTS_PER_ROUND {
            self.adjust(base, now);
        }
    }

    fn adjust(&mut self, base: Duration, now: Instant) {
        let min_rtt = self.min_rtt.unwrap_or(base).max(base);
        let extra = min_rtt - base;
        // Extra delay of fences sent with a full window; none: the window was never
        // used up, so there is no evidence it is too small.
        let congested_extra = self.min_congested_rtt.map(|r| r.max(base) - base);
        let scaled = |w: u64| -> u64 {
            let b = base.as_micros().max(1);
            let m = min_rtt.as_micros().max(1);
            u64::try_from(u128::from(w) * b / m).unwrap_or(u64::MAX)
        };
        let before = self.window;
        if extra > SPIKE && extra > base / 2 {
            self.window = scaled(self.window);
            self.slow_start = false;
        } else if self.slow_start {
            if extra > SLOW_START_EXIT {
                self.window = scaled(self.window);
                self.slow_start = false;
            } else if congested_extra.is_some_and(|e| e < SLOW_START_EXIT) {
                self.window = self.window.saturating_mul(2);
            }
        } else if extra > QUEUE_HIGH {
            self.window = self.window.saturating_sub(STEP);
        } else if let Some(e) = congested_extra {
            if e < QUEUE_TINY {
                self.window += 2 * STEP;
            } else if e < QUEUE_LOW {
                self.window += STEP;
            }
        }
        self.window = self.window.clamp(MIN_WINDOW, MAX_WINDOW);
        // A round without a change (typically: no fence was sent with a full window,
        // as with the first updates of a burst) does not make the fences already on
        // their way stale: those sent with the window full are the evidence needed.
        let changed = self.window != before;
        self.reset_round(changed.then_some(now));
    }

    fn reset_round(&mut self, now: Option<Instant>) {
        self.min_rtt = None;
        self.min_congested_rtt = None;
        self.measurements = 0;
        if now.is_some() {
            self.last_adjustment = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    /// Sends one "update" of `n` bytes plus a fence at `t`; returns the fence.
    fn update(c: &mut Congestion, out: &mut BytesMut, n: usize, t: Instant) -> Fence {
        out.extend_from_slice(&vec![0; n]);
        let start = out.len();
        c.send_fence(out, |o| o.len() as u64, Some(t), true);
        let wire = &out[start..];
        assert_eq!(&wire[..8], [248, 0, 0, 0, 0x80, 0, 0, 1]);
        assert_eq!(wire[8], 5);
        Fence {
            flags: Fence::BLOCK_BEFORE,
            payload: Bytes::copy_from_slice(&wire[9..]),
        }
    }

    #[test]
    fn answers_acknowledge_and_measure() {
        let t0 = Instant::now();
        let mut c = Congestion::default();
        let mut out = BytesMut::new();
        let f = update(&mut c, &mut out, 20_000, t0);
        let pos = out.len() as u64;
        assert!(c.is_congested(pos));
        assert!(!c.on_response(&Fence::new(0, &b""[..]).unwrap(), Some(t0)));
        assert!(c.on_response(&f, Some(t0 + Duration::from_millis(30))));
        assert_eq!(c.in_flight(pos), 0);
        assert_eq!(c.rtt(), Some(Duration::from_millis(30)));
        // A second answer to the same fence is not ours any more.
        assert!(!c.on_response(&f, Some(t0)));
    }

    #[test]
    fn fast_link_opens_slow_link_closes() {
        let t0 = Instant::now();
        let mut c = Congestion::default();
        let mut out = BytesMut::new();
        let mut t = t0;
        // Full-window updates answered at a steady 10 ms: slow start doubles.
        for _ in 0..3 {
            let n = c.window() as usize;
            let f = update(&mut c, &mut out, n, t);
            t += Duration::from_millis(10);
            c.on_response(&f, Some(t));
        }
        assert_eq!(c.window(), 2 * INITIAL_WINDOW);
        // Now the RTT grows to 60 ms (queues building): scaled down by 10/60, out of
        // slow start.
        for _ in 0..3 {
            let n = c.window() as usize;
            let f = update(&mut c, &mut out, n, t);
            t += Duration::from_millis(60);
            c.on_response(&f, Some(t));
        }
        assert_eq!(c.window(), (2 * INITIAL_WINDOW * 10 / 60).max(MIN_WINDOW));
        assert!(!c.slow_start);
    }

    #[test]
    fn idle_restarts_the_estimate() {
        let t0 = Instant::now();
        let mut c = Congestion {
            window: 1 << 20,
            ..Congestion::default()
        };
        let mut out = BytesMut::new();
        let f = update(&mut c, &mut out, 10, t0);
        c.on_response(&f, Some(t0 + Duration::from_millis(1)));
        c.before_update(Some(t0 + Duration::from_secs(1)));
        assert_eq!(c.window(), INITIAL_WINDOW);
        assert!(c.slow_start);
    }

    #[test]
    fn outstanding_fences_are_bounded() {
        let t0 = Instant::now();
        let mut c = Congestion {
            window: MAX_WINDOW,
            ..Congestion::default()
        };
        let mut out = BytesMut::new();
        for _ in 0..MAX_OUTSTANDING {
            assert!(!c.is_congested(out.len() as u64));
            update(&mut c, &mut out, 1, t0);
        }
        assert!(c.is_congested(out.len() as u64));
    }
}
