//! The expiry calendar: when each role of a repository expires, when its re-signing window
//! opens, and what is due or overdue now.
//!
//! A role that expires unnoticed takes every client down with it (Warehouse's development
//! root expired on 2025-02-21 and was never refreshed). Each offline role therefore has a
//! signing period: how many days before its expiry the officers should meet to sign the next
//! version. The defaults follow the PEP 458 lifetimes ([`super::expiry`]): root and targets
//! live a year and are re-signed in their last 60 days, claimed (and its bins) live 3 to 6
//! months and are re-signed in their last 30; snapshot and timestamp are renewed by the
//! online repository every day, so they have no window and are only reported once expired.
//! A ceremony plan's `[policy.signing_period_days]` changes them.

use std::collections::BTreeMap;

use crate::metadata::Expires;

const DAY: i64 = 86_400;

/// Days before expiry that each role's re-signing window opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningPeriods {
    /// Days by role name (claimed's bins use claimed's).
    pub days: BTreeMap<String, u32>,
    /// Days for every other role (delegated roles signed offline).
    pub other: u32,
}

impl Default for SigningPeriods {
    fn default() -> Self {
        SigningPeriods {
            days: BTreeMap::from([
                ("root".to_owned(), 60),
                ("targets".to_owned(), 60),
                ("claimed".to_owned(), 30),
                ("snapshot".to_owned(), 0),
                ("timestamp".to_owned(), 0),
            ]),
            other: 30,
        }
    }
}

impl SigningPeriods {
    /// The window of `role`, in days.
    pub fn of(&self, role: &str) -> u32 {
        let key = if role.starts_with(crate::pypi::CLAIMED_BINS_PREFIX) {
            "claimed"
        } else {
            role
        };
        self.days.get(key).copied().unwrap_or(self.other)
    }
}

/// How a role stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Expired: clients refuse it now.
    Overdue,
    /// Inside its re-signing window (or within the window asked for): sign the next version.
    Due,
    /// Not yet due.
    Fine,
}

impl Standing {
    /// The word printed and put in JSON.
    pub fn word(self) -> &'static str {
        match self {
            Standing::Overdue => "overdue",
            Standing::Due => "due",
            Standing::Fine => "ok",
        }
    }
}

/// One role's place in the calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The role.
    pub role: String,
    /// Its version.
    pub version: u64,
    /// The file it was read from, as given.
    pub file: String,
    /// When it expires.
    pub expires: Expires,
    /// Days before expiry its re-signing window opens.
    pub window_days: u32,
    /// When that window opens.
    pub window_opens: Expires,
    /// How it stands at the time asked about.
    pub standing: Standing,
}

/// The calendar of `roles` (role, version, file, expiry) at `now`. With `within` (seconds),
/// a role is due when it expires within that time, whatever its window; otherwise when its
/// window is open. Only the highest version of each role counts (an older one is superseded);
/// entries are sorted by expiry, soonest first.
pub fn calendar(
    roles: impl IntoIterator<Item = (String, u64, String, Expires)>,
    periods: &SigningPeriods,
    now: Expires,
    within: Option<i64>,
) -> Vec<Entry> {
    let mut latest: BTreeMap<String, (u64, String, Expires)> = BTreeMap::new();
    for (role, version, file, expires) in roles {
        match latest.get(&role) {
            Some((v, ..)) if *v >= version => {}
            _ => {
                latest.insert(role, (version, file, expires));
            }
        }
    }
    let mut out: Vec<Entry> = latest
        .into_iter()
        .map(|(role, (version, file, expires))| {
            let window_days = periods.of(&role);
            let lead = within.unwrap_or(i64::from(window_days) * DAY);
            let window_opens = Expires::from_unix(expires.unix() - i64::from(window_days) * DAY)
                .unwrap_or(expires);
            let standing = if expires.is_expired_at(now) {
                Standing::Overdue
            } else if expires.unix() - now.unix() <= lead {
                Standing::Due
            } else {
                Standing::Fine
            };
            Entry {
                role,
                version,
                file,
                expires,
                window_days,
                window_opens,
                standing,
            }
        })
        .collect();
    out.sort_by(|a, b| a.expires.cmp(&b.expires).then(a.role.cmp(&b.role)));
    out
}

/// The calendar as an iCalendar file (RFC 5545): for each role an all-day event on the day
/// its re-signing window opens ("Re-sign ROLE (expires ...)", what to do, the file), with a
/// reminder a week before; an overdue role's event is today. Each event's UID names the role,
/// version and expiry, so importing a newer calendar updates the same events; DTSTAMP is
/// `now`, so the same calendar gives the same file.
///
/// Written here rather than with a calendar crate: the file is a few fixed properties, and
/// the `icalendar` crate would bring chrono, a second `nom`, `uuid` and a second `getrandom`
/// for it. The suite reads the output with Python's `icalendar` parser.
pub fn ics(entries: &[Entry], now: Expires) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//conclave//expiry calendar//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!(
            "X-WR-CALNAME:{}",
            ics_text("TUF metadata re-signing (conclave)")
        ),
    ];
    let stamp = ics_stamp(now);
    for e in entries {
        let day = if e.standing == Standing::Overdue {
            now
        } else {
            e.window_opens
        };
        let next = Expires::from_unix(day.unix() + DAY).unwrap_or(day);
        let what = match e.standing {
            Standing::Overdue => "OVERDUE: it has expired and clients refuse it. ",
            _ => "",
        };
        let uid = format!("conclave-resign-{}-v{}-{}", e.role, e.version, e.expires);
        lines.extend([
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", ics_text(&uid)),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART;VALUE=DATE:{}", ics_date(day)),
            format!("DTEND;VALUE=DATE:{}", ics_date(next)),
            format!(
                "SUMMARY:{}",
                ics_text(&format!("Re-sign {} (expires {})", e.role, e.expires))
            ),
            format!(
                "DESCRIPTION:{}",
                ics_text(&format!(
                    "{what}Role {} version {} (read from {}) expires {}. Its re-signing \
                     window opens {} days before: draft its next version and sign it at a \
                     ceremony before then.",
                    e.role, e.version, e.file, e.expires, e.window_days
                ))
            ),
            "BEGIN:VALARM".to_owned(),
            "ACTION:DISPLAY".to_owned(),
            format!(
                "DESCRIPTION:{}",
                ics_text(&format!("Re-signing {} is due", e.role))
            ),
            "TRIGGER:-P7D".to_owned(),
            "END:VALARM".to_owned(),
            "END:VEVENT".to_owned(),
        ]);
    }
    lines.push("END:VCALENDAR".to_owned());
    let mut out = String::new();
    for line in &lines {
        fold_into(line, &mut out);
    }
    out
}

/// A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped; other
/// control characters dropped.
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `YYYYMMDD` of a time's UTC day.
fn ics_date(t: Expires) -> String {
    t.to_string()[..10].replace('-', "")
}

/// `YYYYMMDDTHHMMSSZ`.
fn ics_stamp(t: Expires) -> String {
    t.to_string().replace(['-', ':'], "")
}

/// A content line, folded at 75 octets (RFC 5545 3.1: CRLF, then a space), never inside a
/// character.
fn fold_into(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Expires {
        Expires::parse(s).unwrap()
    }

    #[test]
    fn overdue_due_and_fine_with_windows_and_within() {
        let now = at("2027-01-01T00:00:00Z");
        let roles = vec![
            (
                "root".to_owned(),
                1,
                "1.root.json".to_owned(),
                at("2027-02-15T00:00:00Z"),
            ),
            (
                "root".to_owned(),
                2,
                "2.root.json".to_owned(),
                at("2027-12-01T00:00:00Z"),
            ),
            (
                "targets".to_owned(),
                1,
                "1.targets.json".to_owned(),
                at("2027-02-15T00:00:00Z"),
            ),
            (
                "timestamp".to_owned(),
                9,
                "timestamp.json".to_owned(),
                at("2026-12-31T00:00:00Z"),
            ),
            (
                "snapshot".to_owned(),
                9,
                "9.snapshot.json".to_owned(),
                at("2027-01-01T12:00:00Z"),
            ),
        ];
        let c = calendar(roles.clone(), &SigningPeriods::default(), now, None);
        let by: BTreeMap<&str, &Entry> = c.iter().map(|e| (e.role.as_str(), e)).collect();
        assert_eq!(by["root"].version, 2, "the older root is superseded");
        assert_eq!(by["root"].standing, Standing::Fine);
        assert_eq!(
            by["targets"].standing,
            Standing::Due,
            "45 days left, 60-day window"
        );
        assert_eq!(by["targets"].window_opens, at("2026-12-17T00:00:00Z"));
        assert_eq!(by["timestamp"].standing, Standing::Overdue);
        assert_eq!(by["snapshot"].standing, Standing::Fine, "online: no window");
        assert_eq!(c[0].role, "timestamp", "soonest first");
        // --within a day: targets is not due within it, snapshot is.
        let c = calendar(roles, &SigningPeriods::default(), now, Some(DAY));
        let by: BTreeMap<&str, &Entry> = c.iter().map(|e| (e.role.as_str(), e)).collect();
        assert_eq!(by["targets"].standing, Standing::Fine);
        assert_eq!(by["snapshot"].standing, Standing::Due);
    }

    #[test]
    fn the_ics_has_one_event_per_role_with_a_stable_uid() {
        let now = at("2027-01-01T00:00:00Z");
        let roles = vec![(
            "targets".to_owned(),
            3,
            "3.targets.json".to_owned(),
            at("2027-02-15T00:00:00Z"),
        )];
        let c = calendar(roles, &SigningPeriods::default(), now, None);
        let text = ics(&c, now);
        assert!(text.starts_with("BEGIN:VCALENDAR"), "{text}");
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 1, "{text}");
        assert!(
            text.contains("UID:conclave-resign-targets-v3-2027-02-15T00:00:00Z"),
            "{text}"
        );
        assert!(text.contains("DTSTART;VALUE=DATE:20261217"), "{text}");
        assert!(text.contains("DTSTAMP:20270101T000000Z"), "{text}");
        assert!(text.contains("DTEND;VALUE=DATE:20261218"), "{text}");
        assert!(
            text.lines().all(|l| l.len() <= 76),
            "folded at 75 octets: {text}"
        );
        assert_eq!(ics_text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
        assert_eq!(text, ics(&c, now), "the same calendar gives the same file");
    }

    #[test]
    fn claimed_bins_use_claimed_s_period() {
        let p = SigningPeriods::default();
        assert_eq!(p.of(&format!("{}0a", crate::pypi::CLAIMED_BINS_PREFIX)), 30);
        assert_eq!(p.of("some-project"), 30);
        assert_eq!(p.of("root"), 60);
    }
}
