//! Canonical JSON against securesystemslib: the committed vectors (made by pinned
//! securesystemslib, see tests/vectors/README.md) and a property test that feeds random JSON
//! values to both encoders.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use conclave::cjson::{self, Map, Value};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

fn lines(path: &str) -> Vec<Value> {
    let text =
        std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| cjson::parse(l.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {name} in {v}"))
}

#[test]
fn committed_canonical_vectors_match_securesystemslib() {
    let cases = lines("tests/vectors/cjson/cases.jsonl");
    assert!(
        cases.len() >= 50,
        "only {} canonical-JSON vectors",
        cases.len()
    );
    for case in &cases {
        let name = field(case, "name");
        let input = cjson::parse(field(case, "input").as_bytes())
            .unwrap_or_else(|e| panic!("{name}: conclave cannot read the input: {e}"));
        assert_eq!(
            hex::encode(cjson::to_canonical(&input)),
            field(case, "canonical_hex"),
            "{name}"
        );
    }
}

#[test]
fn inputs_securesystemslib_refuses_are_refused() {
    let cases = lines("tests/vectors/cjson/rejects.jsonl");
    assert!(!cases.is_empty());
    for case in &cases {
        let name = field(case, "name");
        let err = cjson::parse(field(case, "input").as_bytes());
        assert_eq!(
            err.map_err(|e| e.kind),
            Err(cjson::ParseErrorKind::Float),
            "{name}"
        );
    }
}

fn json_string() -> impl Strategy<Value = String> {
    // Bias towards the characters where encoders differ: controls, quotes, backslashes,
    // non-ASCII, astral code points and combining marks.
    let ch = prop_oneof![
        4 => proptest::char::range('a', 'e'),
        2 => proptest::char::range('\u{0}', '\u{1f}'),
        2 => prop_oneof![Just('"'), Just('\\'), Just('/'), Just(' '), Just('!'), Just('\u{7f}')],
        1 => proptest::char::range('\u{80}', '\u{7ff}'),
        1 => proptest::char::range('\u{e000}', '\u{fffd}'),
        1 => proptest::char::range('\u{10000}', '\u{10ffff}'),
        1 => Just('\u{301}'),
    ];
    proptest::collection::vec(ch, 0..8).prop_map(|v| v.into_iter().collect())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1000i64..1000).prop_map(Value::Int),
        json_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(json_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map>())),
        ]
    })
}

/// Random values through both encoders, in one Python process.
#[test]
fn random_values_encode_like_securesystemslib() {
    let mut runner = TestRunner::new(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x00c0_4c1a_e5ee_d000),
        ..Config::default()
    });
    let strategy = json_value();
    let values: Vec<Value> = (0..3000)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    // The values travel to Python as standard JSON (one line each: control characters are
    // escaped by the plain writer, and newlines between lines are its only raw ones).
    let mut input = Vec::new();
    for v in &values {
        let line = cjson::to_pretty(v);
        let compact: Vec<u8> = String::from_utf8(line)
            .unwrap()
            .lines()
            .map(str::trim_start)
            .collect::<String>()
            .into_bytes();
        assert_eq!(
            &cjson::parse(&compact).unwrap(),
            v,
            "writer/reader round trip"
        );
        input.extend_from_slice(&compact);
        input.push(b'\n');
    }
    let mut child = Command::new(python())
        .arg(repo_root().join("tests/interop/python/canonical.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let expected: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(expected.len(), values.len());
    for (v, want) in values.iter().zip(expected) {
        assert_eq!(hex::encode(cjson::to_canonical(v)), want, "value {v}");
    }
}
