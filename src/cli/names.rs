//! Names beside keyids on the command line: the plan is found (`--plan`, or the `plan.toml`
//! of the ceremony directory a file is in) and every keyid shown gets its key's name and
//! officer ([`conclave::ceremony::names`]).

use std::path::{Path, PathBuf};

use conclave::ceremony::names::KeyNames;
use conclave::metadata::KeyId;

use crate::cli::Failure;

/// `--plan PLAN`: where the names of keys come from.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct PlanArgs {
    /// A ceremony plan whose key names and officers are shown beside the keyids (repeatable;
    /// by default the plan.toml of the ceremony directory the file is in, if any). Names are
    /// only what the plan calls a keyid: the keyid is what counts.
    #[arg(long = "plan", value_name = "PLAN")]
    pub plans: Vec<PathBuf>,
}

/// The names to show beside keyids.
#[derive(Default)]
pub struct Names {
    names: KeyNames,
    /// A plan found says `policy.new_keys_must_sign = false`.
    possession_off: bool,
}

impl Names {
    /// The names from each `--plan` given; without any, from the `plan.toml` of the ceremony
    /// directory of the first of `files` that is in one. A `--plan` that cannot be read is an
    /// error; a ceremony directory's plan that cannot be read is a warning (the command goes on
    /// with keyids alone).
    pub fn find(args: &PlanArgs, files: &[&Path]) -> Result<Self, Failure> {
        let mut names = KeyNames::new();
        let mut possession_off = false;
        if !args.plans.is_empty() {
            for p in &args.plans {
                let (plan, _) = crate::cli::ceremony::load_plan(p)
                    .map_err(|f| Failure::usage(format!("--plan: {}", f.message)))?;
                names.add_plan(&plan);
                possession_off |= !plan.policy.new_keys_must_sign;
            }
            return Ok(Names {
                names,
                possession_off,
            });
        }
        if let Some(path) = ceremony_plan(files) {
            match crate::cli::ceremony::load_ceremony_plan(&path) {
                Ok(plan) => {
                    names.add_plan(&plan);
                    possession_off = !plan.policy.new_keys_must_sign;
                }
                Err(f) => eprintln!(
                    "warning: {}; keys are shown by keyid alone (give --plan PLAN for names)",
                    f.message
                ),
            }
        }
        Ok(Names {
            names,
            possession_off,
        })
    }

    /// Whether keys a root rotation adds must sign it before it is final: the plan's
    /// `policy.new_keys_must_sign`, true without a plan.
    pub fn new_keys_must_sign(&self) -> bool {
        !self.possession_off
    }

    /// The library's names (for what the library prints itself, e.g. SUMMARY.txt).
    pub fn key_names(&self) -> &KeyNames {
        &self.names
    }

    /// The keyid with its name and officer when the plan knows it.
    pub fn keyid(&self, id: &KeyId) -> String {
        self.names.with_keyid(id)
    }

    /// The first 16 digits of the keyid, with its name and officer when the plan knows it.
    pub fn short_keyid(&self, id: &KeyId) -> String {
        match self.names.get(id) {
            Some(n) => format!("{} ({})", id.short(), n.label()),
            None => id.short().to_string(),
        }
    }

    /// A line that holds keyids, with names after the ones the plan knows.
    pub fn line(&self, text: &str) -> String {
        self.names.annotate(text)
    }

    /// The officer (plan id) holding `id`, for the transcript.
    pub fn officer(&self, id: &KeyId) -> Option<String> {
        self.names
            .get(id)
            .and_then(|n| n.officer.as_ref())
            .map(|(id, _)| id.clone())
    }
}

/// The `plan.toml` of the ceremony directory the first of `files` in one is in.
pub(crate) fn ceremony_plan(files: &[&Path]) -> Option<PathBuf> {
    files
        .iter()
        .filter_map(|f| crate::cli::record::discover(f))
        .map(|dir| dir.join("plan.toml"))
        .find(|p| p.is_file())
}
