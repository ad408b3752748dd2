//! Latency statistics: nearest-rank percentiles of one round's samples, and the median over
//! rounds of each percentile (the maximum is the largest of all rounds).

use serde::{Deserialize, Serialize};

/// Percentiles of one set of latency samples, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
    /// How many samples.
    pub samples: usize,
}

impl Percentiles {
    /// Percentiles of `samples_ns` (nanoseconds; sorted here); `None` for no samples.
    pub fn of(samples_ns: &mut [u64]) -> Option<Percentiles> {
        if samples_ns.is_empty() {
            return None;
        }
        samples_ns.sort_unstable();
        let at = |q: f64| {
            // Nearest rank: the smallest sample with at least q of the samples at or below it.
            let rank = ((q * samples_ns.len() as f64).ceil() as usize).clamp(1, samples_ns.len());
            samples_ns[rank - 1] as f64 / 1000.0
        };
        Some(Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p95: at(0.95),
            p99: at(0.99),
            max: samples_ns[samples_ns.len() - 1] as f64 / 1000.0,
            samples: samples_ns.len(),
        })
    }

    /// The median over rounds of each percentile, the largest maximum and the samples of all
    /// rounds; `None` for no rounds.
    pub fn median_of_rounds(rounds: &[Percentiles]) -> Option<Percentiles> {
        if rounds.is_empty() {
            return None;
        }
        let pick = |f: fn(&Percentiles) -> f64| median(rounds.iter().map(f).collect());
        Some(Percentiles {
            p50: pick(|p| p.p50),
            p90: pick(|p| p.p90),
            p95: pick(|p| p.p95),
            p99: pick(|p| p.p99),
            max: rounds.iter().map(|p| p.max).fold(0.0, f64::max),
            samples: rounds.iter().map(|p| p.samples).sum(),
        })
    }
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut samples: Vec<u64> = (1..=100).rev().map(|us| us * 1000).collect();
        let p = Percentiles::of(&mut samples).expect("samples");
        assert_eq!((p.p50, p.p90, p.p95, p.p99, p.max), (50.0, 90.0, 95.0, 99.0, 100.0));
        let mut one = vec![7000];
        let p = Percentiles::of(&mut one).expect("one sample");
        assert_eq!((p.p50, p.p99, p.max, p.samples), (7.0, 7.0, 7.0, 1));
        assert!(Percentiles::of(&mut []).is_none());
    }

    #[test]
    fn rounds_combine_by_median_and_the_largest_maximum() {
        let round = |v: f64| Percentiles {
            p50: v,
            p90: v * 2.0,
            p95: v * 3.0,
            p99: v * 4.0,
            max: v * 10.0,
            samples: 10,
        };
        let p = Percentiles::median_of_rounds(&[round(3.0), round(1.0), round(2.0)]).expect("rounds");
        assert_eq!((p.p50, p.p99, p.max, p.samples), (2.0, 8.0, 30.0, 30));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
