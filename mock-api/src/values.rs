//! Wire value types shared by every model: millisecond UTC timestamps (`Ts`), calendar dates
//! (`Day`) and the injectable clock that every "now" and "today" reads (contract §1.3, §1.10).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::{Date, Month, OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

/// A UTC timestamp at millisecond precision, serialized as `2026-04-02T14:03:11.482Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

impl Ts {
    /// Parses an RFC 3339 timestamp with any offset; finer fractions are truncated to ms.
    pub fn parse(s: &str) -> Option<Ts> {
        let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        Some(Ts((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    /// The UTC calendar date this instant falls on.
    pub fn day(self) -> Day {
        Day(self.to_odt().date())
    }

    /// The instant as a `time` value in UTC.
    pub fn to_odt(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(UtcOffset::UTC)
    }

    /// Unix seconds (floored).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant plus `ms` milliseconds.
    pub fn plus_ms(self, ms: i64) -> Ts {
        Ts(self.0 + ms)
    }

    /// This instant plus `days` whole days.
    pub fn plus_days(self, days: i64) -> Ts {
        Ts(self.0 + days * 86_400_000)
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_odt();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ts::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {s:?}")))
    }
}

/// A calendar date, serialized as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub Date);

impl Day {
    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y: i32 = s[0..4].parse().ok()?;
        let m: u8 = s[5..7].parse().ok()?;
        let d: u8 = s[8..10].parse().ok()?;
        let month = Month::try_from(m).ok()?;
        Date::from_calendar_date(y, month, d).ok().map(Day)
    }

    /// Builds a date from its parts (panics never: invalid parts give `None`).
    pub fn from_ymd(y: i32, m: u8, d: u8) -> Option<Day> {
        Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok().map(Day)
    }

    /// The date `n` days later (or earlier for negative `n`).
    pub fn plus(self, n: i64) -> Day {
        Day(self.0.checked_add(time::Duration::days(n)).unwrap_or(self.0))
    }

    /// Whole days from `self` to `other` (`other - self`).
    pub fn days_until(self, other: Day) -> i64 {
        (other.0 - self.0).whole_days()
    }

    /// The instant at which this day starts (UTC midnight).
    pub fn start(self) -> Ts {
        Ts((self.0.midnight().assume_utc().unix_timestamp()) * 1000)
    }

    /// Year of the date.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// Month of the date, 1–12.
    pub fn month(self) -> u8 {
        self.0.month() as u8
    }

    /// Day of the month.
    pub fn day_of_month(self) -> u8 {
        self.0.day()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month() as u8,
            self.0.day()
        )
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Day::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid date {s:?}")))
    }
}

/// The one clock of an installation: the wall clock, or a fixed instant moved only by tests.
#[derive(Clone, Debug)]
pub enum Clock {
    /// Real time.
    System,
    /// Deterministic mode: a fixed instant that only `advance`/`set` move.
    Fixed(Ts),
}

impl Clock {
    /// The current instant.
    pub fn now(&self) -> Ts {
        match self {
            Clock::System => Ts((OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64),
            Clock::Fixed(t) => *t,
        }
    }

    /// The current UTC date.
    pub fn today(&self) -> Day {
        self.now().day()
    }
}

/// The default fixed instant of deterministic mode.
pub const DEFAULT_FIXED_NOW: &str = "2026-04-01T12:00:00.000Z";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_with_three_fraction_digits_in_utc() {
        let t = Ts::parse("2026-04-02T16:03:11.482917+02:00").expect("valid");
        assert_eq!(t.to_string(), "2026-04-02T14:03:11.482Z");
        assert_eq!(
            Ts::parse("2026-04-01T12:00:00Z").expect("valid").to_string(),
            "2026-04-01T12:00:00.000Z"
        );
    }

    #[test]
    fn dates_reject_anything_but_the_strict_form() {
        assert!(Day::parse("2026-02-29").is_none());
        assert!(Day::parse("2026-2-01").is_none());
        assert_eq!(Day::parse("2028-02-29").expect("leap").to_string(), "2028-02-29");
        let d = Day::parse("2026-03-30").expect("valid");
        assert_eq!(d.plus(3).to_string(), "2026-04-02");
        assert_eq!(d.days_until(d.plus(3)), 3);
    }
}
