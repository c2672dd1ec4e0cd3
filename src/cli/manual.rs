//! `conclave completions SHELL` and `conclave man -o DIR`: shell completions and man pages,
//! generated from the same clap definitions the binary parses its arguments with, so they
//! always describe this binary (hidden old spellings stay hidden).

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::{Cli, Failure, exit, shown, write_output};

/// The shells `conclave completions` writes for.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Print a shell completion script on stdout.
///
/// For example: `conclave completions bash > /etc/bash_completion.d/conclave`, `conclave
/// completions zsh > ~/.zfunc/_conclave` (with ~/.zfunc in $fpath), or `conclave completions
/// fish > ~/.config/fish/completions/conclave.fish`.
#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn completions(a: CompletionsArgs) -> Result<u8, Failure> {
    let shell = match a.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "conclave", &mut script);
    // Through the binary's stdout writer, which reports a closed pipe by the exit code.
    print!("{}", String::from_utf8_lossy(&script));
    Ok(exit::OK)
}

/// Write man pages: conclave.1 and one page per subcommand (conclave-key-generate.1, ...).
///
/// DIR is created if missing; pages already there under the same names are replaced (each
/// written whole or not at all). Read one with `man -l DIR/conclave.1`, or install DIR's
/// pages under a man1 directory in MANPATH.
#[derive(clap::Args)]
pub struct ManArgs {
    /// The directory for the pages.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
}

pub fn man(a: ManArgs) -> Result<u8, Failure> {
    std::fs::create_dir_all(&a.output).map_err(|e| {
        Failure::usage(format!(
            "{}: cannot create: {}",
            shown(&a.output),
            crate::cli::io_reason(&e)
        ))
    })?;
    // As clap_mangen's own generate_to: display names (conclave-key-generate) are set when
    // the command is built, and `help` is not a page.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_pages(cmd, &a.output, &mut written)?;
    eprintln!(
        "Wrote {} man pages into {} (read one with `man -l {}`).",
        written.len(),
        shown(&a.output),
        shown(&a.output.join("conclave.1"))
    );
    Ok(exit::OK)
}

fn write_pages(cmd: clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<(), Failure> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    let page = clap_mangen::Man::new(cmd);
    let path = dir.join(page.get_filename());
    let mut roff = Vec::new();
    page.render(&mut roff)
        .map_err(|e| Failure::usage(format!("{}: cannot render: {e}", shown(&path))))?;
    write_output(&path, &roff)?;
    written.push(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own consistency checks on the whole command tree (conflicting flags, bad
    /// defaults, duplicate names, ...), which otherwise fire only when a command is used.
    #[test]
    fn the_command_definition_passes_clap_debug_assert() {
        Cli::command().debug_assert();
    }

    /// Every command that writes a file or directory names it with -o/--output; the old
    /// `--out` spelling is only ever a hidden alias; and both rotate commands take keys as
    /// ROLE=VALUE.
    #[test]
    fn outputs_are_dash_o_and_rotations_take_role_equals_value() {
        fn walk(cmd: &clap::Command, path: &str, seen: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let long = arg.get_long().unwrap_or_default();
                assert_ne!(long, "out", "{path}: --out is visible");
                if long == "output" {
                    assert_eq!(arg.get_short(), Some('o'), "{path}: --output without -o");
                    seen.push(path.to_owned());
                }
                if long.ends_with("-out") || long.ends_with("-output") {
                    // Secondary outputs beside -o (pypi init's --claimed-out, --unclaimed-out).
                    assert!(
                        cmd.get_arguments().any(|a| a.get_long() == Some("output")),
                        "{path}: --{long} but no -o"
                    );
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), seen);
            }
        }
        let mut seen = Vec::new();
        walk(&Cli::command(), "conclave", &mut seen);
        for writes in [
            "conclave ceremony genesis",
            "conclave ceremony rehearse",
            "conclave revoke",
            "conclave sign",
            "conclave merge",
            "conclave export",
            "conclave man",
            "conclave root rotate",
            "conclave delegation rotate",
            "conclave transcript sign-head",
            "conclave qr read",
            "conclave key generate",
        ] {
            assert!(
                seen.iter().any(|s| s == writes),
                "{writes} has no -o: {seen:?}"
            );
        }

        let cmd = Cli::command();
        let value_names = |path: &[&str]| -> Vec<(String, String)> {
            let mut c = &cmd;
            for p in path {
                c = c.find_subcommand(p).expect("subcommand");
            }
            c.get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| {
                    let long = a.get_long()?.to_owned();
                    let names = a.get_value_names()?.join(" ");
                    Some((long, names))
                })
                .filter(|(l, _)| ["add-key", "remove-key", "threshold"].contains(&l.as_str()))
                .collect()
        };
        assert_eq!(
            value_names(&["root", "rotate"]),
            value_names(&["delegation", "rotate"])
        );
        assert_eq!(value_names(&["root", "rotate"]).len(), 3);
    }

    #[test]
    fn every_visible_subcommand_gets_a_page_name() {
        let mut cmd = Cli::command().disable_help_subcommand(true);
        cmd.build();
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| clap_mangen::Man::new(s.clone()).get_filename())
            .collect();
        assert!(names.contains(&"conclave-sign.1".to_owned()), "{names:?}");
        assert!(names.contains(&"conclave-man.1".to_owned()), "{names:?}");
    }
}
