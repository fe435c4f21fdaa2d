//! Schedules: EventBridge schedule expressions (`rate(5 minutes)`,
//! `cron(0 3 * * ? *)`) as the plan's `[[worker]]` entries and SAM's
//! `Schedule` events take them.
//!
//! Three jobs: a rate from the seconds between a loop's rounds (rounded up
//! to EventBridge's finest, one minute), a cron expression of the app's
//! scheduler (5 fields as in crontab, 6 or 7 with seconds first as the
//! `cron`/`croner` crates read them, `@hourly` and friends) converted to
//! EventBridge's 6 fields, and checking an expression a person wrote.
//! Pure functions over strings; knows nothing of the code.

/// A schedule and, when it is not what the code does exactly, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub expression: String,
    pub note: Option<String>,
}

/// The EventBridge rate for a loop that runs every `secs` seconds.
pub fn rate(secs: u64) -> Converted {
    let minutes = secs.div_ceil(60).max(1);
    let note = (!secs.is_multiple_of(60) || secs == 0).then(|| {
        format!(
            "the code waits {secs} s between rounds; EventBridge's rates are whole minutes, so \
             rounded up"
        )
    });
    let (n, unit) = if minutes.is_multiple_of(1440) {
        (minutes / 1440, "day")
    } else if minutes.is_multiple_of(60) {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    Converted {
        expression: format!("rate({n} {unit}{})", if n == 1 { "" } else { "s" }),
        note,
    }
}

/// How many seconds apart a rate's runs are; `None` for a cron expression
/// or anything that is no valid rate.
pub fn period_secs(expression: &str) -> Option<u64> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.split_once(' ')?;
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    let secs = match unit {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(n * secs)
}

/// Whether `expression` is one EventBridge accepts: a `rate(N unit)` with
/// the unit singular exactly when N is 1, or a `cron(..)` of six fields
/// with `?` in the day-of-month or the day-of-week field (not both).
/// `Err` says what is wrong, in one phrase.
pub fn check(expression: &str) -> Result<(), String> {
    if let Some(inner) = expression
        .strip_prefix("rate(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let Some((n, unit)) = inner.split_once(' ') else {
            return Err("a rate is `rate(N unit)`, e.g. `rate(5 minutes)`".to_owned());
        };
        let n: u64 = n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("`{n}` is not a positive whole number"))?;
        let singular = matches!(unit, "minute" | "hour" | "day");
        let plural = matches!(unit, "minutes" | "hours" | "days");
        return match (singular, plural, n == 1) {
            (true, _, true) | (_, true, false) => Ok(()),
            (true, _, false) => Err(format!("write `rate({n} {unit}s)`")),
            (_, true, true) => Err(format!("write `rate(1 {})`", unit.trim_end_matches('s'))),
            _ => Err(format!(
                "`{unit}` is no rate unit: minute(s), hour(s) or day(s)"
            )),
        };
    }
    let Some(inner) = expression
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
    else {
        return Err("a schedule is `rate(..)` or `cron(..)`".to_owned());
    };
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [minute, hour, dom, month, dow, year] = fields.as_slice() else {
        return Err(format!(
            "an EventBridge cron has 6 fields (minutes hours day-of-month month day-of-week \
             year), this one {}",
            fields.len()
        ));
    };
    for (name, f, allowed) in [
        ("minutes", minute, ",-*/"),
        ("hours", hour, ",-*/"),
        ("day-of-month", dom, ",-*?/LW"),
        ("month", month, ",-*/"),
        ("day-of-week", dow, ",-*?/L#"),
        ("year", year, ",-*/"),
    ] {
        let ok = f
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || allowed.contains(c));
        if !ok || f.is_empty() {
            return Err(format!(
                "the {name} field `{f}` has characters EventBridge does not read there"
            ));
        }
    }
    match (*dom == "?", *dow == "?") {
        (true, false) | (false, true) => Ok(()),
        (true, true) => Err("only one of day-of-month and day-of-week may be `?`".to_owned()),
        (false, false) => Err(
            "EventBridge needs `?` in day-of-month or day-of-week (e.g. `cron(0 3 * * ? *)`)"
                .to_owned(),
        ),
    }
}

/// An app's cron expression as EventBridge's `cron(..)`: 5 fields
/// (crontab: minute first, day-of-week 0-7 with 0 and 7 Sunday), 6 or 7
/// fields (seconds first, then as crontab with day-of-week 1-7 from Sunday
/// as the `cron` crate reads it, and an optional year), or `@yearly`,
/// `@monthly`, `@weekly`, `@daily`, `@hourly`. Numbered days of the week
/// come out as names (`MON-FRI`), so the two numberings cannot be mixed up.
/// `Err` when EventBridge cannot express it (seconds other than one fixed
/// second, both day fields restricted).
pub fn from_cron(expr: &str) -> Result<Converted, String> {
    let expr = expr.trim();
    let fields: Vec<&str> = match expr {
        "@yearly" | "@annually" => vec!["0", "0", "1", "1", "*"],
        "@monthly" => vec!["0", "0", "1", "*", "*"],
        "@weekly" => vec!["0", "0", "*", "*", "0"],
        "@daily" | "@midnight" => vec!["0", "0", "*", "*", "*"],
        "@hourly" => vec!["0", "*", "*", "*", "*"],
        _ => expr.split_whitespace().collect(),
    };
    let mut note = None;
    let (rest, year, sunday) = match fields.as_slice() {
        [m, h, dom, mon, dow] => ([*m, *h, *dom, *mon, *dow], "*", 0),
        [s, m, h, dom, mon, dow, year @ ..] if year.len() <= 1 => {
            if s.parse::<u32>().is_err() {
                return Err(format!(
                    "`{expr}` runs more than once a minute (seconds `{s}`); EventBridge schedules \
                     whole minutes at best"
                ));
            }
            if *s != "0" {
                note = Some(format!(
                    "runs at second 0, not {s}: EventBridge has no seconds"
                ));
            }
            (
                [*m, *h, *dom, *mon, *dow],
                year.first().copied().unwrap_or("*"),
                1,
            )
        }
        _ => {
            return Err(format!(
                "`{expr}` is no cron expression of 5, 6 or 7 fields"
            ));
        }
    };
    let [minute, hour, dom, month, dow] = rest;
    // EventBridge writes a step from the start as `0/10`, not `*/10`.
    let start = |f: &str, first: &str| match f.strip_prefix("*/") {
        Some(step) => format!("{first}/{step}"),
        None => f.to_owned(),
    };
    let (minute, hour) = (start(minute, "0"), start(hour, "0"));
    let (dom, month) = (start(dom, "1"), start(month, "1"));
    let dom = dom.as_str();
    let dow = day_names(dow, sunday)?;
    let (dom, dow) = match (dom, dow.as_str()) {
        (_, "*" | "?") => (dom.to_owned(), "?".to_owned()),
        ("*" | "?", _) => ("?".to_owned(), dow),
        _ => {
            return Err(format!(
                "`{expr}` restricts both the day of the month and the day of the week; \
                 EventBridge needs one of them open (`?`): split it into two workers"
            ));
        }
    };
    let expression = format!("cron({minute} {hour} {dom} {month} {dow} {year})");
    check(&expression).map_err(|e| format!("`{expr}` converts to `{expression}`, which {e}"))?;
    Ok(Converted { expression, note })
}

const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A day-of-week field with its numbers as names; `sunday` is the number
/// Sunday has (0 in crontab, 1 in the `cron` crate).
fn day_names(field: &str, sunday: u32) -> Result<String, String> {
    let name = |part: &str| -> Result<String, String> {
        match part.parse::<u32>() {
            Ok(n) => {
                let i = n.checked_sub(sunday).map(|i| i % 7);
                match i {
                    Some(i) if n <= 7 => Ok(DAYS[i as usize].to_owned()),
                    _ => Err(format!("`{part}` is no day of the week")),
                }
            }
            Err(_) => Ok(part.to_ascii_uppercase()),
        }
    };
    let mut out = Vec::new();
    for item in field.split(',') {
        // `1-5`, `MON-FRI`, `*/2`, `5#3`, `5L`: names for the numbers
        // before a step, `#` or `L`.
        let (range, tail) = match item.find(['/', '#']) {
            Some(i) => item.split_at(i),
            None => (item, ""),
        };
        let (range, last) = match range.strip_suffix('L').filter(|r| !r.is_empty()) {
            Some(r) => (r, "L"),
            None => (range, ""),
        };
        let range = if range == "*" || range == "?" {
            range.to_owned()
        } else {
            let parts: Result<Vec<String>, String> = range.split('-').map(name).collect();
            parts?.join("-")
        };
        out.push(format!("{range}{last}{tail}"));
    }
    Ok(out.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(expr: &str) -> String {
        match from_cron(expr) {
            Ok(c) => match c.note {
                Some(n) => format!("{} ({n})", c.expression),
                None => c.expression,
            },
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn rates_are_whole_minutes_hours_or_days() {
        let r = |s| rate(s).expression;
        assert_eq!(r(300), "rate(5 minutes)");
        assert_eq!(r(60), "rate(1 minute)");
        assert_eq!(r(3600), "rate(1 hour)");
        assert_eq!(r(7200), "rate(2 hours)");
        assert_eq!(r(86_400), "rate(1 day)");
        assert_eq!(r(90), "rate(2 minutes)");
        assert_eq!(r(5), "rate(1 minute)");
        assert!(rate(5).note.is_some_and(|n| n.contains("5 s")));
        assert_eq!(rate(300).note, None);
        assert_eq!(period_secs("rate(2 hours)"), Some(7200));
        assert_eq!(period_secs("cron(0 3 * * ? *)"), None);
    }

    #[test]
    fn six_fields_with_seconds_drop_them_and_gain_a_year_and_a_question_mark() {
        assert_eq!(conv("0 */10 * * * *"), "cron(0/10 * * * ? *)");
        assert_eq!(conv("0 30 3 * * *"), "cron(30 3 * * ? *)");
        assert_eq!(conv("0 0 9 * * 2-6"), "cron(0 9 ? * MON-FRI *)");
        assert_eq!(conv("0 0 12 1 * *"), "cron(0 12 1 * ? *)");
        assert_eq!(conv("0 0 0 * * Mon,Fri 2030"), "cron(0 0 ? * MON,FRI 2030)");
        assert_eq!(
            conv("15 0 4 * * *"),
            "cron(0 4 * * ? *) (runs at second 0, not 15: EventBridge has no seconds)"
        );
    }

    #[test]
    fn crontab_fields_count_sunday_from_zero() {
        assert_eq!(conv("*/5 * * * *"), "cron(0/5 * * * ? *)");
        assert_eq!(conv("0 3 * * 0"), "cron(0 3 ? * SUN *)");
        assert_eq!(conv("0 3 * * 1-5"), "cron(0 3 ? * MON-FRI *)");
        assert_eq!(conv("0 3 * * 7"), "cron(0 3 ? * SUN *)");
        assert_eq!(conv("0 3 * * 5#2"), "cron(0 3 ? * FRI#2 *)");
        assert_eq!(conv("@hourly"), "cron(0 * * * ? *)");
        assert_eq!(conv("@weekly"), "cron(0 0 ? * SUN *)");
    }

    #[test]
    fn what_eventbridge_cannot_say_is_an_error() {
        assert!(
            conv("* * * * * *").starts_with("error: `* * * * * *` runs more than once a minute")
        );
        assert!(conv("*/30 * * * * *").starts_with("error:"));
        assert!(conv("0 0 1 * 1").contains("both the day of the month and the day of the week"));
        assert!(conv("0 0").starts_with("error:"));
        assert!(conv("0 0 * * 9").contains("`9` is no day of the week"));
    }

    #[test]
    fn written_schedules_are_checked() {
        for ok in [
            "rate(1 minute)",
            "rate(5 minutes)",
            "rate(2 days)",
            "cron(0 3 * * ? *)",
            "cron(0/15 8-17 ? * MON-FRI *)",
            "cron(0 0 L * ? 2030)",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        let err = |s: &str| check(s).expect_err(s);
        assert_eq!(err("rate(5 minute)"), "write `rate(5 minutes)`");
        assert_eq!(err("rate(1 minutes)"), "write `rate(1 minute)`");
        assert!(err("rate(0 minutes)").contains("not a positive"));
        assert!(err("rate(5 seconds)").contains("no rate unit"));
        assert!(err("cron(0 3 * * * *)").contains("needs `?`"));
        assert!(err("cron(0 3 * * *)").contains("6 fields"));
        assert!(err("every 5 minutes").contains("`rate(..)` or `cron(..)`"));
    }
}
