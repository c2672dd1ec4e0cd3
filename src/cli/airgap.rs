//! `conclave airgap-check`, and the `--allow-network` gate ceremony commands share.
//!
//! A ceremony command flattens [`AllowNetwork`] into its arguments and calls [`enforce`]
//! first; it records `report.summary()` in the transcript:
//!
//! ```ignore
//! #[command(flatten)]
//! network: crate::cli::airgap::AllowNetwork,
//! ...
//! let report = crate::cli::airgap::enforce(&a.network)?;
//! transcript_step.note(report.summary());
//! ```

use conclave::airgap::{self, AirgapReport};

use crate::cli::{Failure, exit};

/// Check this machine is air-gapped: no network interface up except loopback, no radio
/// (Wi-Fi, Bluetooth, mobile broadband) unblocked.
///
/// Reads /sys/class/net (an interface counts when it is switched on, even with no cable
/// plugged in) and /sys/class/rfkill. Prints each finding with what to do about it. Exits 0
/// when nothing is up, 1 when something is (or the check cannot be made).
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_a: Args) -> Result<u8, Failure> {
    let report = airgap::check();
    if report.is_clean() {
        println!("{}", report.summary());
        return Ok(exit::OK);
    }
    for line in report.findings() {
        println!("{line}");
    }
    eprintln!(
        "error: this machine is not air-gapped: {} interface(s) up, {} radio(s) unblocked",
        report.interfaces.len(),
        report.radios.len()
    );
    eprintln!("hint: do what each line says, then run `conclave airgap-check` again");
    Ok(exit::FAILED)
}

/// The flag every ceremony command takes.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct AllowNetwork {
    /// Run even though a network interface is up or a radio is unblocked (rehearsals on an
    /// ordinary laptop). The finding is still shown and recorded in the transcript.
    #[arg(long)]
    pub allow_network: bool,
}

/// Check the air gap before a ceremony step. Refuses (exit 1, each finding on stderr) when an
/// interface is up or a radio unblocked, unless --allow-network; returns the report for the
/// transcript either way.
pub fn enforce(allow: &AllowNetwork) -> Result<AirgapReport, Failure> {
    let report = airgap::check();
    if report.is_clean() {
        return Ok(report);
    }
    for line in report.findings() {
        eprintln!(
            "{}: {line}",
            if allow.allow_network {
                "warning"
            } else {
                "error"
            }
        );
    }
    if allow.allow_network {
        eprintln!("warning: continuing because of --allow-network; the transcript records it");
        return Ok(report);
    }
    Err(Failure::failed(
        "this machine is not air-gapped; nothing was done",
    )
    .hint("do what each line above says and run the command again (`conclave airgap-check` checks); for a rehearsal on a networked machine, give --allow-network"))
}
