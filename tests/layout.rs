//! The shape of the code, checked by reading it (issue 17): which modules may import which,
//! no import circle through more than two files, few string errors and no very long
//! functions outside the command line. These rules keep the library reviewable: the model
//! cannot sign or touch files, the verifier cannot sign, signers know nothing of ceremonies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, as a path relative to `src/`.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out.sort();
    out
}

fn read(file: &Path) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file);
    std::fs::read_to_string(p).unwrap()
}

/// The module path of a file: `metadata/mod.rs` is `[metadata]`, `lib.rs` is `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut segs: Vec<String> = file
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        segs.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segs.pop();
    }
    segs
}

/// The file that holds the longest prefix of `path` that is a module of this crate.
fn file_of(path: &[String], files: &BTreeSet<PathBuf>) -> Option<PathBuf> {
    for k in (0..=path.len()).rev() {
        let dir: PathBuf = path[..k].iter().collect();
        let candidates = if k == 0 {
            vec![PathBuf::from("lib.rs")]
        } else {
            vec![dir.with_extension("rs"), dir.join("mod.rs")]
        };
        if let Some(f) = candidates.into_iter().find(|c| files.contains(c)) {
            return Some(f);
        }
    }
    None
}

/// Strip comments and string literals (so that `crate::` in prose does not count).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        let chars: Vec<char> = line.chars().collect();
        let mut in_str = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if in_str {
                if c == '\\' {
                    i += 1;
                } else if c == '"' {
                    in_str = false;
                }
                out.push(' ');
            } else if c == '"' {
                in_str = true;
                out.push(' ');
            } else if c == '\'' {
                // A character literal ('{', '\n', '\'') is blanked; a lifetime is kept.
                let close = if chars.get(i + 1) == Some(&'\\') {
                    (i + 3..chars.len().min(i + 12)).find(|&j| chars[j] == '\'')
                } else if chars.get(i + 2) == Some(&'\'') {
                    Some(i + 2)
                } else {
                    None
                };
                match close {
                    Some(j) => {
                        out.extend(std::iter::repeat_n(' ', j - i + 1));
                        i = j;
                    }
                    None => out.push(c),
                }
            } else {
                out.push(c);
            }
            i += 1;
        }
        out.push('\n');
    }
    out
}

/// Every path this file names through `crate::`, `super::` or `self::`, expanded from
/// `use` groups, as absolute module paths.
fn named_paths(file: &Path, text: &str) -> Vec<Vec<String>> {
    let own = module_of(file);
    let code = code_only(text);
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0
            || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == ':');
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        let start = if !boundary {
            None
        } else if rest.starts_with("crate::") {
            Some((Vec::new(), 7))
        } else if chars[i..].starts_with(&['c', 'o', 'n', 'c', 'l', 'a', 'v', 'e', ':', ':']) {
            // The binary (src/main.rs, src/cli/) names the library by its crate name.
            Some((Vec::new(), 10))
        } else if rest.starts_with("super::") {
            let mut base = own.clone();
            base.pop();
            Some((base, 7))
        } else if rest.starts_with("self::") {
            Some((own.clone(), 6))
        } else {
            None
        };
        if let Some((base, skip)) = start {
            let (paths, end) = parse_tree(&chars, i + skip, base);
            out.extend(paths);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Parse `a::b::{c, d::e}` at `i` under `prefix`; returns the full paths and where it ended.
fn parse_tree(chars: &[char], mut i: usize, mut prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i] == '{' {
            let mut all = Vec::new();
            i += 1;
            loop {
                while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                    i += 1;
                }
                if i >= chars.len() || chars[i] == '}' {
                    return (all, i + 1);
                }
                let (paths, end) = parse_tree(chars, i, prefix.clone());
                all.extend(paths);
                i = end;
            }
        }
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i == start {
            return (vec![prefix], i.max(start + 1));
        }
        let seg: String = chars[start..i].iter().collect();
        if seg == "super" {
            prefix.pop();
        } else if seg != "self" {
            prefix.push(seg);
        }
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// file -> the other files of this crate it imports from.
fn import_graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    graph_of(true)
}

/// The import graph; without `tests`, a file's unit tests (from its first `#[cfg(test)]`)
/// are left out: they may share fixtures across modules without making a circle.
fn graph_of(tests: bool) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let files: BTreeSet<PathBuf> = sources().into_iter().collect();
    let mut graph = BTreeMap::new();
    for f in &files {
        if f == Path::new("main.rs") {
            continue;
        }
        let mut text = read(f);
        if !tests && let Some(i) = text.find("#[cfg(test)]") {
            text.truncate(i);
        }
        let mut to = BTreeSet::new();
        for p in named_paths(f, &text) {
            if let Some(t) = file_of(&p, &files)
                && &t != f
                && t != Path::new("lib.rs")
            {
                to.insert(t);
            }
        }
        graph.insert(f.clone(), to);
    }
    graph
}

fn imports_under(
    graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    from: &str,
    to: &[&str],
) -> Vec<String> {
    let mut bad = Vec::new();
    for (f, targets) in graph {
        if !f.starts_with(from) && f != Path::new(from) {
            continue;
        }
        for t in targets {
            if to.iter().any(|x| t.starts_with(x) || t == Path::new(x)) {
                bad.push(format!("{} imports {}", f.display(), t.display()));
            }
        }
    }
    bad
}

#[test]
fn the_model_neither_signs_nor_touches_files() {
    let g = import_graph();
    let bad = imports_under(
        &g,
        "metadata",
        &["signer", "fsutil.rs", "keystore.rs", "ceremony", "cli"],
    );
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_verifier_does_not_sign_and_signers_know_no_ceremony() {
    let g = import_graph();
    let mut bad = imports_under(&g, "verify.rs", &["signer"]);
    bad.extend(imports_under(&g, "signer", &["ceremony", "cli"]));
    bad.extend(imports_under(&g, "pieces.rs", &[""]));
    // Nothing in the library reaches into the command line.
    for (f, t) in &g {
        if !f.starts_with("cli") {
            bad.extend(
                t.iter()
                    .filter(|t| t.starts_with("cli"))
                    .map(|t| format!("{} imports {}", f.display(), t.display())),
            );
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_rules_see_imports() {
    // The checks above would pass on a graph with no edges: make sure they read real ones.
    let g = import_graph();
    let edges: usize = g.values().map(BTreeSet::len).sum();
    assert!(edges > 100, "only {edges} imports found");
    assert!(g[Path::new("verify.rs")].contains(Path::new("metadata/mod.rs")));
    assert!(
        g[Path::new("cli/signing.rs")]
            .iter()
            .any(|t| t.starts_with("ceremony"))
    );
    let probe = "use crate::metadata::{keyset::audit, Key};\nfn f() { super::x::y(); }\n";
    let paths = named_paths(Path::new("ceremony/review.rs"), probe);
    assert!(
        paths.contains(&vec!["metadata".into(), "keyset".into(), "audit".into()]),
        "{paths:?}"
    );
    assert!(
        paths.contains(&vec!["ceremony".into(), "x".into(), "y".into()]),
        "{paths:?}"
    );
}

#[test]
fn no_import_circle_spans_more_than_two_files() {
    // Unit tests share fixtures (request's test roots) across modules; the circle rule is
    // about what the code itself depends on.
    let g = graph_of(false);
    // Tarjan's strongly connected components.
    struct T<'a> {
        g: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a Path, usize>,
        low: BTreeMap<&'a Path, usize>,
        stack: Vec<&'a Path>,
        on: BTreeSet<&'a Path>,
        next: usize,
        found: Vec<Vec<&'a Path>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Path) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in g.get(v).into_iter().flatten() {
            let w = w.as_path();
            if !g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            t.found.push(scc);
        }
    }
    let mut t = T {
        g: &g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_path()) {
            visit(&mut t, v);
        }
    }
    let big: Vec<_> = t.found.iter().filter(|s| s.len() > 2).collect();
    assert!(
        big.is_empty(),
        "import circles through more than two files: {big:#?}"
    );
}

#[test]
fn few_string_errors_and_no_very_long_functions_outside_the_command_line() {
    let mut string_errors = Vec::new();
    let mut long = Vec::new();
    for f in sources() {
        if f.starts_with("cli") || f == Path::new("main.rs") {
            continue;
        }
        let text = read(&f);
        let code = code_only(&text);
        for (n, line) in code.lines().enumerate() {
            let squeezed: String = line.split_whitespace().collect();
            if squeezed.contains("Result<") && squeezed.contains(",String>") {
                string_errors.push(format!("{}:{}", f.display(), n + 1));
            }
        }
        // A function runs from its `fn` line to the line where its braces close.
        let lines: Vec<&str> = code.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let t = lines[i].trim_start();
            let is_fn = t.starts_with("fn ")
                || t.contains(" fn ") && !t.contains("=>")
                || t.starts_with("pub fn ");
            if is_fn && !t.ends_with(';') {
                let mut depth = 0i32;
                let mut opened = false;
                let mut j = i;
                while j < lines.len() {
                    for c in lines[j].chars() {
                        match c {
                            '{' => {
                                depth += 1;
                                opened = true;
                            }
                            '}' => depth -= 1,
                            _ => {}
                        }
                    }
                    if opened && depth <= 0 || !opened && lines[j].trim_end().ends_with(';') {
                        break;
                    }
                    j += 1;
                }
                if j - i + 1 > 250 {
                    long.push(format!("{}:{} ({} lines)", f.display(), i + 1, j - i + 1));
                }
            }
            i += 1;
        }
    }
    assert!(
        string_errors.len() < 10,
        "Result<_, String> outside src/cli: {string_errors:#?}"
    );
    assert!(
        long.is_empty(),
        "functions longer than 250 lines: {long:#?}"
    );
}

#[test]
fn no_library_message_names_a_flag() {
    // A library message that names `--something` speaks CLI; the CLI adds the flag and hint.
    let mut bad = Vec::new();
    for f in sources() {
        if f.starts_with("cli") || f == Path::new("main.rs") {
            continue;
        }
        let text = read(&f);
        let mut in_tests = false;
        for (n, line) in text.lines().enumerate() {
            if line.contains("#[cfg(test)]") {
                in_tests = true;
            }
            let t = line.trim_start();
            if in_tests || t.starts_with("//") {
                continue;
            }
            // Error messages only: `#[error("...")]` and strings on lines that build an error.
            // (Task sheets hold whole command lines, flags included, by design.)
            let message =
                t.starts_with("#[error(") || line.contains("Err(") || line.contains("Error::");
            if !message {
                continue;
            }
            if let Some(i) = line.find("\"") {
                let lit = &line[i..];
                if let Some(p) = lit.find("--") {
                    let after = lit[p + 2..].chars().next();
                    if after.is_some_and(|c| c.is_ascii_lowercase()) {
                        bad.push(format!("{}:{}: {}", f.display(), n + 1, t));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "library strings naming a --flag: {bad:#?}");
}
