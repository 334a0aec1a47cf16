//! Percentiles and the clock's own cost.

use std::hint::black_box;
use std::time::Instant;

use serde::Serialize;

/// Nanoseconds per call: 50th, 90th and 99th percentile over the samples.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ns: f64,
    /// 90th percentile.
    pub p90_ns: f64,
    /// 99th percentile.
    pub p99_ns: f64,
    /// Mean: total time over calls, what throughput sees.
    pub mean_ns: f64,
    /// Samples the percentiles are taken over.
    pub samples: usize,
}

impl Latency {
    /// The percentiles of `v` (sorted here; empty gives zeros).
    pub fn of(mut v: Vec<f64>) -> Latency {
        if v.is_empty() {
            return Latency::default();
        }
        let mean_ns = v.iter().sum::<f64>() / v.len() as f64;
        v.sort_by(f64::total_cmp);
        // Nearest rank.
        let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
        Latency {
            p50_ns: at(0.5),
            p90_ns: at(0.9),
            p99_ns: at(0.99),
            mean_ns,
            samples: v.len(),
        }
    }
}

/// What reading the clock costs here.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Timer {
    /// Median of `Instant::now()` twice in a row, subtracted from every
    /// timed sample.
    pub overhead_ns: f64,
    /// The smallest non-zero difference seen: the clock's step.
    pub resolution_ns: f64,
}

impl Timer {
    /// Measures the clock (10,000 back-to-back readings).
    pub fn measure() -> Timer {
        let mut d = Vec::with_capacity(10_000);
        for _ in 0..10_000 {
            let t = Instant::now();
            let u = black_box(Instant::now());
            d.push((u - t).as_nanos() as f64);
        }
        let resolution_ns = d
            .iter()
            .copied()
            .filter(|&x| x > 0.0)
            .fold(f64::INFINITY, f64::min);
        Timer {
            overhead_ns: Latency::of(d).p50_ns,
            resolution_ns: if resolution_ns.is_finite() {
                resolution_ns
            } else {
                0.0
            },
        }
    }

    /// Nanoseconds per call of a sample that made `calls` calls since `t0`,
    /// the clock's overhead subtracted (never below 0).
    pub fn per_call(&self, t0: Instant, calls: usize) -> f64 {
        let ns = t0.elapsed().as_nanos() as f64 - self.overhead_ns;
        ns.max(0.0) / calls.max(1) as f64
    }

    /// How many calls of `f` one sample makes so that it lasts at least
    /// 50 clock steps and 1 µs (at most `cap`).
    pub fn batch_for(&self, cap: usize, mut f: impl FnMut()) -> usize {
        let target = (self.resolution_ns * 50.0).max(1_000.0);
        let mut b = 1;
        while b < cap {
            let t = Instant::now();
            for _ in 0..b {
                f();
            }
            if t.elapsed().as_nanos() as f64 >= target {
                break;
            }
            b *= 2;
        }
        b.min(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let l = Latency::of((1..=100).map(f64::from).collect());
        assert_eq!((l.p50_ns, l.p90_ns, l.p99_ns), (50.0, 90.0, 99.0));
        let one = Latency::of(vec![7.0]);
        assert_eq!((one.p50_ns, one.p99_ns, one.samples), (7.0, 7.0, 1));
        assert_eq!(Latency::of(vec![]).samples, 0);
    }
}
