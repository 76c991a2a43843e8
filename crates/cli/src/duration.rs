//! Durations on the command line: `600s`, `1500ms`, `10m`, `24h`, `2d`, or
//! a plain number of seconds.

use std::fmt;

/// A duration as given on the command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Duration {
    pub seconds: f64,
    /// As the user wrote it, for messages.
    pub text: String,
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads a command-line duration (for clap).
pub fn parse(text: &str) -> Result<Duration, String> {
    parse_duration(text).map(|seconds| Duration { seconds, text: text.trim().to_string() })
}

/// Reads a duration and returns it in seconds, the unit of a scenario's
/// `duration_s`. Whether it is short enough to run is for scenario
/// validation to say, so that the limit lives in one place.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let not_a_duration =
        || format!("{text:?} is not a duration: expected a number and a unit, as in 600s");
    let value: f64 = number.trim().parse().map_err(|_| not_a_duration())?;
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3_600.0,
        "d" => 86_400.0,
        other => {
            return Err(format!(
            "{other:?} is not a unit of time: use ms, s, m, h or d (as in 600s, 1500ms, 10m, 24h)"
        ))
        }
    };
    let seconds = value * scale;
    if seconds.is_finite() && seconds > 0.0 {
        Ok(seconds)
    } else {
        Err(format!("{text:?} is not a duration: it must be more than zero"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("600s"), Ok(600.0));
        assert_eq!(parse_duration("600"), Ok(600.0));
        assert_eq!(parse_duration("1500ms"), Ok(1.5));
        assert_eq!(parse_duration("10m"), Ok(600.0));
        assert_eq!(parse_duration("24h"), Ok(86_400.0));
        assert_eq!(parse_duration("1.5h"), Ok(5_400.0));
        assert_eq!(parse_duration("2d"), Ok(172_800.0));
        assert_eq!(parse_duration(" 2 s "), Ok(2.0));
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(parse_duration("10y").unwrap_err().contains("not a unit of time"));
        assert!(parse_duration("s").unwrap_err().contains("not a duration"));
        assert!(parse_duration("").unwrap_err().contains("not a duration"));
        assert!(parse_duration("0s").unwrap_err().contains("more than zero"));
        assert!(parse_duration("-5s").unwrap_err().contains("more than zero"));
        assert!(parse_duration("ten").unwrap_err().contains("not a duration"));
        assert!(parse_duration("nan").is_err());
        assert!(parse_duration("1e400").is_err());
    }
}
