//! `conclave export CEREMONY_DIR -o BUNDLE [--format plain|rstuf]`

use std::path::PathBuf;

use conclave::ceremony::export::{self, ExportError, Format};
use conclave::ceremony::rstuf::Settings;
use conclave::display::escape;
use conclave::metadata::Expires;
use conclave::verify::InputFile;

use crate::cli::{Failure, exit, io_reason, read_file, shown};

/// Write what goes to the online repository, from a verified ceremony directory.
///
/// CEREMONY_DIR is a metadata directory in repository layout (N.root.json for every root
/// version, targets.json or V.targets.json, delegated roles such as claimed). It is verified
/// first, exactly as `conclave verify` does; if anything fails, nothing is written (exit 1).
///
/// BUNDLE is created as a new directory (an existing one is refused) holding every
/// N.root.json, the targets and delegated metadata in use as found, SHA256SUMS and
/// SUMMARY.txt; with --format rstuf also rstuf/bootstrap.json (and rstuf/update-N.json for
/// each later root version), the payloads RSTUF's CLI sends. --format rstuf refuses, naming
/// each problem, a root RSTUF 1.0 cannot run: targets, snapshot and timestamp must share one
/// online key carrying `x-rstuf-online-key-uri` (docs/rstuf.md). The same inputs always give
/// the same bytes. SUMMARY.txt names each key as the plan does (--plan, or the ceremony
/// directory's plan.toml) beside its keyid.
#[derive(clap::Args)]
pub struct Args {
    /// The ceremony's metadata directory.
    #[arg(value_name = "CEREMONY_DIR")]
    dir: PathBuf,
    /// The bundle directory to create.
    #[arg(short = 'o', long = "output", value_name = "BUNDLE")]
    output: PathBuf,
    /// plain: metadata, SHA256SUMS, SUMMARY.txt; rstuf: also RSTUF's bootstrap payload.
    #[arg(long, value_name = "FORMAT", default_value = "plain", value_parser = ["plain", "rstuf"])]
    format: String,
    #[command(flatten)]
    names: crate::cli::names::PlanArgs,
}

pub fn run(a: Args) -> Result<u8, Failure> {
    if std::fs::symlink_metadata(&a.output).is_ok() {
        return Err(Failure::usage(format!(
            "{}: already exists; nothing was written",
            shown(&a.output)
        ))
        .hint(
            "an export is always a new directory: choose a new name or move the old bundle away",
        ));
    }
    let recorder = crate::cli::record::Recorder::find(&[&a.output], &[&a.dir])?;
    let source = crate::cli::metadata_dir(&a.dir);
    let files = load(&source)?;
    let names = crate::cli::names::Names::find(&a.names, &[&a.dir])?;
    let now = Expires::now();
    let format = if a.format == "rstuf" {
        Format::Rstuf(Box::new(rstuf_settings(&a, now)?))
    } else {
        Format::Plain
    };
    let bundle = match export::build(&files, now, format.clone(), names.key_names()) {
        Ok(b) => b,
        Err(ExportError::Unverified(problems)) => {
            crate::cli::print_problems(&source, &problems);
            return Err(Failure::failed(format!(
                "{}: the metadata does not verify ({} problem(s)); nothing was exported",
                shown(&a.dir),
                problems.len()
            ))
            .hint("run `conclave verify` on it, fix what it reports, and export again"));
        }
        Err(ExportError::NotForRstuf { file, problems }) => {
            for p in &problems {
                eprintln!("{}: {p}", escape(&source.join(&file).display().to_string()));
            }
            return Err(Failure::failed(format!(
                "{}: RSTUF 1.0 cannot run this root ({} problem(s)); nothing was exported",
                shown(&source.join(&file)),
                problems.len()
            ))
            .hint(
                "RSTUF needs the rstuf profile (one online key, with `x-rstuf-online-key-uri`, \
                 for targets, snapshot and timestamp; see docs/rstuf.md); `--format plain` \
                 exports this root as it is",
            ));
        }
        Err(e) => return Err(Failure::failed(e.to_string())),
    };
    export::write_bundle(&a.output, &bundle).map_err(|e| {
        Failure::usage(format!(
            "{}: cannot write: {}",
            shown(&a.output),
            io_reason(&e)
        ))
    })?;
    for name in bundle.files.keys() {
        println!("{}", escape(&a.output.join(name).display().to_string()));
    }
    eprintln!(
        "Exported {} file(s) to {} (format {}). Check them with: cd {} && sha256sum -c SHA256SUMS",
        bundle.files.len(),
        shown(&a.output),
        format.name(),
        shown(&a.output)
    );
    let written: Vec<PathBuf> = bundle.files.keys().map(|n| a.output.join(n)).collect();
    written.iter().for_each(|w| crate::cli::record::wrote(w));
    let read: Vec<PathBuf> = files.iter().map(|f| source.join(&f.name)).collect();
    crate::cli::record::step(
        &recorder,
        format!("export ({}) -> {}", format.name(), shown(&a.output)),
        &read.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
        &written.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
        vec![],
    )?;
    Ok(exit::OK)
}

/// RSTUF's bootstrap settings: from the plan (`--plan`, or the ceremony directory's
/// plan.toml), which must then be in the rstuf profile; RSTUF's defaults when there is none.
fn rstuf_settings(a: &Args, now: Expires) -> Result<Settings, Failure> {
    let (path, plan) = match a.names.plans.as_slice() {
        [] => match crate::cli::names::ceremony_plan(&[&a.dir]) {
            Some(p) => {
                let plan = crate::cli::ceremony::load_ceremony_plan(&p)?;
                (p, plan)
            }
            None => {
                eprintln!(
                    "No plan given and none in the ceremony directory: RSTUF's default settings \
                     (its expiry periods, 256 online hash bins)."
                );
                return Ok(Settings::defaults());
            }
        },
        [p] => (p.clone(), crate::cli::ceremony::load_plan(p)?.0),
        _ => {
            return Err(Failure::usage(
                "--format rstuf takes its settings from one plan: give one --plan".to_owned(),
            ));
        }
    };
    let settings = Settings::from_plan(&plan, now)
        .map_err(|e| Failure::usage(format!("{}: {e}", shown(&path))))?;
    eprintln!("RSTUF settings from {}:", shown(&path));
    for line in settings.describe().iter().skip(1) {
        eprintln!("  {line}");
    }
    Ok(settings)
}

/// Every `*.json` file directly in `dir`, in name order (what `conclave verify DIR` reads).
pub(crate) fn load(dir: &std::path::Path) -> Result<Vec<InputFile>, Failure> {
    let names = crate::cli::metadata_names(
        dir,
        Some("give the ceremony's metadata directory (N.root.json, targets.json, ...)"),
    )?;
    names
        .into_iter()
        .map(|name| {
            Ok(InputFile {
                bytes: read_file(&dir.join(&name))?,
                name,
            })
        })
        .collect()
}
