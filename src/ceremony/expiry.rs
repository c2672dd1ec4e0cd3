//! How far ahead a draft may be dated: the one check every builder and `sign` apply to an
//! expiry.
//!
//! An expiry is a security bound, not bookkeeping. A client trusts metadata until it expires
//! (TUF spec 5.3.10, 5.4.4, 5.5.6, 5.6.6), so the expiry bounds a freeze attack (a mirror or
//! an attacker withholding newer metadata keeps clients on this version until then) and how
//! long the signatures of a key that is later stolen or revoked keep working on this
//! version. An expiry in the past is the other mistake: every client refuses the metadata the
//! moment it is published, so the signatures gathered for it at a ceremony are wasted.
//!
//! The bounds are PEP 458's ("Metadata Expiry Times": root and targets, and the offline bins
//! role, every year; timestamp, snapshot and the online bins every day, renewed by the
//! repository) and, for PEP 480's claimed role, the pre-split PEP 458 text ("claimed ... 3-6
//! months"): see docs/security.md. A builder warns beyond them and refuses an expiry more than
//! [`CEILING_DAYS`] ahead unless told it is intended; no override makes an expiry in the past
//! acceptable to a builder.

use std::collections::BTreeMap;

use crate::display::escape;
use crate::metadata::Expires;

const DAY: i64 = 86_400;

/// The furthest ahead a builder dates anything without an explicit override: 100 years, the
/// longest duration a WHEN can say (`36500d`). Anything further is a typo (2926 for 2026) or
/// an attempt at metadata that never expires.
pub const CEILING_DAYS: u32 = 36_500;

/// The longest lifetime PEP 458 / PEP 480 give a role, in days, and what says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    /// Days from now.
    pub days: u32,
    /// Where the number comes from, e.g. "PEP 458: root, 1 year".
    pub basis: &'static str,
}

/// The longest lifetime of every role, in days; roles not listed get [`ExpiryPolicy::other`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiryPolicy {
    /// Days by role name (a ceremony plan's `[policy.max_expiry_days]` changes these).
    pub max_days: BTreeMap<String, u32>,
    /// Days for every other role.
    pub other: u32,
}

// PEP 458 "Metadata Expiry Times": "root ... and targets ... SHOULD expire after 1 year";
// the offline bins role likewise; timestamp, snapshot and bin-n after 1 day. A leap day of
// slack, so that "365d" and "a year from today" both pass.
const YEAR: u32 = 366;
// Pre-split PEP 458 (2014), the text PEP 480's claimed role comes from: "claimed ... 3-6
// months".
const CLAIMED: u32 = 183;

impl Default for ExpiryPolicy {
    fn default() -> Self {
        ExpiryPolicy {
            max_days: BTreeMap::from([
                ("root".to_owned(), YEAR),
                ("targets".to_owned(), YEAR),
                ("claimed".to_owned(), CLAIMED),
            ]),
            // conclave drafts other roles only as first versions or for a revocation; the
            // online ones are renewed daily by the repository, and no offline role of PEP 458
            // or PEP 480 lives longer than a year.
            other: YEAR,
        }
    }
}

impl ExpiryPolicy {
    /// The role whose bound applies to `role`: claimed's hash bins (`claimed-bins-*`) are
    /// claimed split up, signed by the same admins on the same schedule.
    fn policy_role(role: &str) -> &str {
        if role.starts_with(crate::pypi::CLAIMED_BINS_PREFIX) {
            "claimed"
        } else {
            role
        }
    }

    /// The bound for `role`.
    pub fn bound(&self, role: &str) -> Bound {
        let key = Self::policy_role(role);
        let default = ExpiryPolicy::default();
        let days = self.max_days.get(key).copied().unwrap_or(self.other);
        let pep = default.max_days.get(key).copied().unwrap_or(default.other);
        let basis = if days != pep {
            "the ceremony plan's policy"
        } else {
            match key {
                "root" => "PEP 458: root, 1 year",
                "targets" => "PEP 458: targets, 1 year",
                "claimed" => "PEP 458 before the PEP 480 split: claimed, 3 to 6 months",
                _ => "PEP 458: no offline role lives longer than 1 year",
            }
        };
        Bound { days, basis }
    }

    /// Check `expires` for `role` against `now` ([`check`] under this policy).
    pub fn check(
        &self,
        role: &str,
        expires: Expires,
        now: Expires,
        allow_long: bool,
    ) -> Result<Lifetime, ExpiryError> {
        // The client's rule (python-tuf: expired when now >= expires), not a second one.
        if expires.is_expired_at(now) {
            return Err(ExpiryError::NotInFuture {
                role: role.to_owned(),
                expires,
                now,
            });
        }
        let seconds = expires.unix() - now.unix();
        if !allow_long && seconds > i64::from(CEILING_DAYS) * DAY {
            return Err(ExpiryError::BeyondCeiling {
                role: role.to_owned(),
                expires,
                days: seconds / DAY,
            });
        }
        Ok(Lifetime {
            role: role.to_owned(),
            expires,
            seconds,
            bound: self.bound(role),
        })
    }
}

/// Why a builder refuses an expiry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    /// The expiry is now or already past: every client would refuse the metadata.
    #[error(
        "role {}: expiry {expires} is not in the future (it is now {now}); clients refuse \
         metadata from the moment it expires",
        escape(.role)
    )]
    NotInFuture {
        /// The role being drafted.
        role: String,
        /// The expiry asked for (or carried over from the previous version).
        expires: Expires,
        /// The time it was checked against.
        now: Expires,
    },
    /// The expiry is more than [`CEILING_DAYS`] ahead.
    #[error(
        "role {}: expiry {expires} is {days} days ahead, more than the {CEILING_DAYS} days (100 \
         years) conclave dates anything without being told it is intended; clients would trust \
         this version, and every key that signs it, that long",
        escape(.role)
    )]
    BeyondCeiling {
        /// The role being drafted.
        role: String,
        /// The expiry asked for.
        expires: Expires,
        /// Whole days from now.
        days: i64,
    },
}

/// An accepted expiry: how far ahead it is, and the role's bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lifetime {
    /// The role drafted.
    pub role: String,
    /// Its expiry.
    pub expires: Expires,
    /// Seconds from now (more than 0).
    pub seconds: i64,
    /// The role's bound.
    pub bound: Bound,
}

impl Lifetime {
    /// Whole days from now.
    pub fn days(&self) -> i64 {
        self.seconds / DAY
    }

    /// Whether the expiry lies beyond the role's bound.
    pub(crate) fn beyond_bound(&self) -> bool {
        self.seconds > i64::from(self.bound.days) * DAY
    }

    /// The warning to read out when the expiry lies beyond the role's bound.
    pub fn warning(&self) -> Option<String> {
        self.beyond_bound().then(|| {
            format!(
                "role {}: expires {} ({} days from now), beyond the {} days of {}; clients \
                 would trust this version, and every key that signs it, that long",
                escape(&self.role),
                self.expires,
                self.days(),
                self.bound.days,
                self.bound.basis
            )
        })
    }
}

/// The warnings of `lifetimes` ([`Lifetime::warning`]), one per bound and expiry however many
/// drafts share them (a round of thousands of bins does), each with how many more share it.
pub fn warnings<'a>(lifetimes: impl IntoIterator<Item = &'a Lifetime>) -> Vec<(String, usize)> {
    let mut out: Vec<((u32, &str, Expires), String, usize)> = Vec::new();
    for l in lifetimes {
        let Some(w) = l.warning() else { continue };
        let key = (l.bound.days, l.bound.basis, l.expires);
        match out.iter_mut().find(|(k, ..)| *k == key) {
            Some((_, _, more)) => *more += 1,
            None => out.push((key, w, 0)),
        }
    }
    out.into_iter().map(|(_, w, more)| (w, more)).collect()
}

/// Check `expires` for `role` against `now` under the default (PEP 458) policy: refused when
/// it is not after `now`, or (unless `allow_long`) more than [`CEILING_DAYS`] ahead;
/// otherwise the [`Lifetime`], which says whether it lies beyond the role's bound.
pub fn check(
    role: &str,
    expires: Expires,
    now: Expires,
    allow_long: bool,
) -> Result<Lifetime, ExpiryError> {
    ExpiryPolicy::default().check(role, expires, now, allow_long)
}

/// How an expiry stands at `now`, as the officer reads it: "in 364 days", "in 5 hours", or
/// "EXPIRED 3 days ago".
pub fn relative(expires: Expires, now: Expires) -> String {
    let secs = expires.unix() - now.unix();
    let (amount, past) = (secs.unsigned_abs(), secs <= 0);
    let text = if amount >= 2 * 86_400 {
        format!("{} days", amount / 86_400)
    } else if amount >= 2 * 3600 {
        format!("{} hours", amount / 3600)
    } else {
        format!("{} minutes", amount / 60)
    };
    if past {
        format!("EXPIRED {text} ago")
    } else {
        format!("in {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Expires {
        Expires::parse(s).unwrap()
    }

    const NOW: &str = "2030-01-01T00:00:00Z";

    #[test]
    fn the_past_and_now_are_refused() {
        for e in ["2029-12-31T23:59:59Z", NOW, "2001-01-01T00:00:00Z"] {
            let err = check("root", at(e), at(NOW), true).unwrap_err();
            assert!(matches!(err, ExpiryError::NotInFuture { .. }), "{e}");
            assert!(err.to_string().contains("not in the future"));
        }
        assert!(check("root", at("2030-01-01T00:00:01Z"), at(NOW), false).is_ok());
    }

    #[test]
    fn pep_458_bounds_per_role() {
        let now = at(NOW);
        let days = |d: i64| Expires::from_unix(now.unix() + d * DAY).unwrap();
        for (role, max) in [
            ("root", 366),
            ("targets", 366),
            ("claimed", 183),
            ("claimed-bins-00a", 183),
            ("unclaimed", 366),
            ("some-project", 366),
        ] {
            let ok = check(role, days(max), now, false).unwrap();
            assert!(!ok.beyond_bound(), "{role}");
            assert_eq!(ok.warning(), None);
            let long = check(role, days(max + 1), now, false).unwrap();
            assert!(long.beyond_bound(), "{role}");
            let w = long.warning().unwrap();
            assert!(w.contains(&format!("{} days from now", max + 1)), "{w}");
            assert!(w.contains("PEP 458"), "{w}");
        }
    }

    #[test]
    fn beyond_a_century_needs_the_override() {
        let now = at(NOW);
        let e = at("2930-01-01T00:00:00Z");
        let err = check("root", e, now, false).unwrap_err();
        assert!(matches!(err, ExpiryError::BeyondCeiling { days, .. } if days > 300_000));
        let ok = check("root", e, now, true).unwrap();
        assert!(ok.warning().unwrap().contains("beyond the 366 days"));
        // Exactly 100 years passes.
        let edge = Expires::from_unix(now.unix() + i64::from(CEILING_DAYS) * DAY).unwrap();
        assert!(check("root", edge, now, false).is_ok());
    }

    #[test]
    fn one_warning_per_bound_and_expiry() {
        let now = at(NOW);
        let far = at("2031-06-01T00:00:00Z");
        let ls: Vec<Lifetime> = [
            "claimed",
            "claimed-bins-0",
            "claimed-bins-1",
            "targets",
            "root",
        ]
        .iter()
        .map(|r| check(r, far, now, false).unwrap())
        .collect();
        let w = warnings(&ls);
        // claimed and its bins share one; targets and root have their own bound's text.
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].0.contains("role claimed:") && w[0].1 == 2, "{w:?}");
        assert!(
            warnings(&[check("root", at("2030-06-01T00:00:00Z"), now, false).unwrap()]).is_empty()
        );
    }

    #[test]
    fn a_plan_policy_changes_the_bound_and_says_so() {
        let mut p = ExpiryPolicy::default();
        p.max_days.insert("root".into(), 30);
        let now = at(NOW);
        let l = p
            .check("root", at("2030-03-01T00:00:00Z"), now, false)
            .unwrap();
        assert!(l.beyond_bound());
        assert!(l.warning().unwrap().contains("the ceremony plan's policy"));
    }

    #[test]
    fn relative_reads_plainly() {
        let now = at(NOW);
        assert_eq!(relative(at("2031-01-01T00:00:00Z"), now), "in 365 days");
        assert_eq!(relative(at("2030-01-01T05:00:00Z"), now), "in 5 hours");
        assert_eq!(
            relative(at("2029-12-29T00:00:00Z"), now),
            "EXPIRED 3 days ago"
        );
        assert!(relative(now, now).starts_with("EXPIRED"));
    }
}
