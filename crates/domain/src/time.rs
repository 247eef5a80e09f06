//! Times as Steward keeps them.

use chrono::{DateTime, SubsecRound, Utc};

/// `t` cut to whole microseconds, the precision both databases store. Every
/// time that may be stored is cut by this one function, wherever it comes
/// from (the clock, a request), so a time answered from a write equals the
/// one read back later.
pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_are_cut_not_rounded_to_the_microsecond() {
        let t = Utc.timestamp_opt(1_700_000_000, 123_456_999).unwrap();
        assert_eq!(micros(t).timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(micros(micros(t)), micros(t), "cutting twice changes nothing");
        let before_1970 = Utc.timestamp_opt(-1, 999_999_999).unwrap();
        assert_eq!(micros(before_1970).timestamp_subsec_nanos(), 999_999_000);
    }
}
