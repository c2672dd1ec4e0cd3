//! `conclave expiry PATH... [--within DURATION] [--json] [--ics FILE]`

use std::path::{Path, PathBuf};

use conclave::ceremony::calendar::{self, Entry, SigningPeriods, Standing};
use conclave::display::escape;
use conclave::metadata::{AnyMetadata, Expires};

use crate::cli::json::{self, Value};
use crate::cli::{Failure, exit, parse_time, read_metadata, shown};

/// The expiry calendar: when each role expires and when it must be re-signed.
///
/// Reads metadata files, or every metadata file of a repository directory (only the highest
/// version of each role counts), and prints each role's expiry, its re-signing window (the
/// days before expiry when the officers should sign its next version) and how it stands:
/// OVERDUE (expired: clients refuse it now), DUE (inside its window) or ok. The windows are
/// the ceremony plan's `[policy.signing_period_days]` (--plan, or the plan.toml of the
/// ceremony directory PATH is in), otherwise: root and targets 60 days, claimed and its bins
/// 30, other offline roles 30, snapshot and timestamp none (the online repository renews
/// them daily; they are reported once expired), and none for a role the plan gives only
/// online keys unless the plan names its window. `verify` and `status` note roles inside
/// their window.
///
/// Exit 0 when nothing is due or overdue, 1 when anything is (a check to run from cron),
/// 2 for usage errors and unreadable files.
#[derive(clap::Args)]
pub struct Args {
    /// Metadata files or repository directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Call a role due when it expires within DURATION (e.g. 30d, or a date: before it),
    /// whatever its window.
    #[arg(long, value_name = "DURATION")]
    within: Option<String>,
    /// Write the re-signing events as an iCalendar file (one all-day event per role on the
    /// day its window opens, with a reminder), for the officers' calendars.
    #[arg(long, value_name = "FILE")]
    ics: Option<PathBuf>,
    /// Print the calendar as JSON on stdout (docs/formats.md).
    #[arg(long)]
    json: bool,
    /// Take "now" to be this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ): what will be due then.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<Expires>,
    /// The ceremony plan whose [policy.signing_period_days] gives the windows.
    #[arg(long, value_name = "PLAN")]
    plan: Option<PathBuf>,
}

/// The role a metadata file holds: its type for root, snapshot and timestamp; for targets
/// metadata the name of the file without its version (`3.claimed.json` is claimed).
fn role_of(path: &Path, md: &AnyMetadata) -> String {
    match md {
        AnyMetadata::Targets(_) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            conclave::verify::classify(&name).map_or(name, |(role, _)| role)
        }
        other => other.type_name().to_owned(),
    }
}

fn files_of(path: &Path) -> Result<Vec<PathBuf>, Failure> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let files = conclave::ceremony::repository::metadata_files(path)
        .map_err(|e| Failure::usage(e.to_string()))?;
    if files.is_empty() {
        return Err(Failure::usage(format!(
            "{}: no metadata files (*.json) in this directory",
            shown(path)
        )));
    }
    Ok(files.into_iter().map(|e| e.path).collect())
}

fn periods(a: &Args) -> Result<SigningPeriods, Failure> {
    let plan = match &a.plan {
        Some(p) => Some(p.clone()),
        None => {
            let files: Vec<&Path> = a.paths.iter().map(PathBuf::as_path).collect();
            crate::cli::names::ceremony_plan(&files)
        }
    };
    let Some(plan) = plan else {
        return Ok(SigningPeriods::default());
    };
    let (plan, _) = crate::cli::ceremony::load_plan(&plan)?;
    Ok(plan.signing_periods())
}

/// The windows for `verify` and `status`: the plan.toml of the ceremony directory the first
/// of `files` is in (an unreadable one is passed over: these are notes), else the defaults.
fn periods_near(files: &[&Path]) -> SigningPeriods {
    crate::cli::names::ceremony_plan(files)
        .and_then(|p| crate::cli::ceremony::load_plan(&p).ok())
        .map_or_else(SigningPeriods::default, |(plan, _)| plan.signing_periods())
}

/// For `verify` and `status`: a note on stderr for each role (role, version, file, expiry)
/// that is inside its re-signing window at `now` (expired ones are the verifier's errors).
pub fn note_due(roles: Vec<(String, u64, String, Expires)>, near: &[&Path], now: Expires) {
    let entries = calendar::calendar(roles, &periods_near(near), now, None);
    for e in entries.iter().filter(|e| e.standing == Standing::Due) {
        eprintln!(
            "note: {}: role {} v{} expires {} ({}): inside its {}-day re-signing window since {}; \
             sign its next version (`conclave expiry` lists the calendar)",
            escape(&e.file),
            escape(&e.role),
            e.version,
            e.expires,
            crate::cli::relative(e.expires, now),
            e.window_days,
            e.window_opens
        );
    }
}

pub fn run(a: Args) -> Result<u8, Failure> {
    let now = a.at.unwrap_or_else(Expires::now);
    let within = match &a.within {
        Some(w) => {
            let until = conclave::ceremony::plan::resolve_when(w, now).map_err(|e| {
                Failure::usage(format!("--within {}: {e}", escape(w)))
                    .hint("give a duration such as 30d, or a date YYYY-MM-DD")
            })?;
            Some(until.unix() - now.unix())
        }
        None => None,
    };
    let periods = periods(&a)?;
    let mut roles = Vec::new();
    for p in &a.paths {
        for f in files_of(p)? {
            let md = read_metadata(&f)?;
            let c = md.common();
            roles.push((role_of(&f, &md), c.version.get(), shown(&f), c.expires));
        }
    }
    let entries = calendar::calendar(roles, &periods, now, within);
    if let Some(ics) = &a.ics {
        let text = calendar::ics(&entries, now);
        crate::cli::write_output(ics, text.as_bytes())?;
        eprintln!(
            "Wrote {} re-signing events to {} (import it into the officers' calendars).",
            entries.len(),
            shown(ics)
        );
    }
    let attention = entries
        .iter()
        .filter(|e| e.standing != Standing::Fine)
        .count();
    if a.json {
        json::print(&to_json(&entries, now));
    } else {
        print_text(&entries, now);
    }
    if attention > 0 {
        eprintln!(
            "{attention} role(s) need signing now: draft and sign their next versions (the \
             ceremony guide, \"Re-signing before expiry\")."
        );
        Ok(exit::FAILED)
    } else {
        Ok(exit::OK)
    }
}

fn print_text(entries: &[Entry], now: Expires) {
    println!("Expiry calendar as of {now}:");
    for e in entries {
        let state = match e.standing {
            Standing::Overdue => "OVERDUE",
            Standing::Due => "DUE",
            Standing::Fine => "ok",
        };
        println!(
            "  {state:<8} {} v{} expires {} ({}); re-sign from {} ({} days before) - {}",
            escape(&e.role),
            e.version,
            e.expires,
            crate::cli::relative(e.expires, now),
            e.window_opens,
            e.window_days,
            escape(&e.file)
        );
    }
}

fn to_json(entries: &[Entry], now: Expires) -> Value {
    json::obj([
        ("now", Value::from(now.to_string())),
        (
            "roles",
            Value::Array(
                entries
                    .iter()
                    .map(|e| {
                        json::obj([
                            ("role", Value::from(e.role.as_str())),
                            ("version", json::int(e.version)),
                            ("file", Value::from(e.file.as_str())),
                            ("expires", Value::from(e.expires.to_string())),
                            ("window_days", json::int(e.window_days)),
                            ("window_opens", Value::from(e.window_opens.to_string())),
                            ("standing", Value::from(e.standing.word())),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}
