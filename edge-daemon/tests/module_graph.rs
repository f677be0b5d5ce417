//! The layering of the daemon's modules, checked from the source: the modules of `src/` form
//! no import cycle, and the door task (the part that keeps people safe) reaches neither the
//! camera, the kiosk, the cloud link nor the configuration as a whole.
//!
//! A module is a top-level file or folder of `src/` (`vision/presence.rs` belongs to
//! `vision`); it uses another when its code names `crate::other` (directly or inside a
//! `use crate::{…}` group). Comments are not code and do not count; `lib.rs` only declares
//! the modules.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level modules each module of `src/` names.
fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    collect_rust_files(src, &mut files);
    let mut graph = Graph::new();
    for file in &files {
        let relative = file.strip_prefix(src).expect("under src");
        let top = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a file name")
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        let used = graph.entry(top.clone()).or_default();
        used.extend(crate_paths(&text).into_iter().filter(|m| *m != top));
    }
    // Only modules count: `crate::FIRMWARE` and the like are items of the crate root.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for used in graph.values_mut() {
        used.retain(|m| modules.contains(m));
    }
    graph
}

fn collect_rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The first segment after every `crate::` of `code`, comments left out.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let code: String = code
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => found.extend(group_heads(group)),
            None => found.extend(identifier(rest)),
        }
    }
    found
}

/// The first identifier of each item of a `{…}` group, `group` starting after the brace.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut item_start = true;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                item_start = false;
                heads.extend(identifier(&group[at..]));
            }
            _ => {}
        }
    }
    heads
}

fn identifier(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (end > 0).then(|| text[..end].to_owned())
}

/// A cycle of `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        module: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(module) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|m| m == module).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(module.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(module.to_owned(), Mark::Open);
        path.push(module.to_owned());
        for used in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(used, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(module.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut marks, &mut Vec::new()))
}

/// Every module `module` reaches, through any number of uses.
fn reach(graph: &Graph, module: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut next = vec![module.to_owned()];
    while let Some(m) = next.pop() {
        for used in graph.get(&m).into_iter().flatten() {
            if seen.insert(used.clone()) {
                next.push(used.clone());
            }
        }
    }
    seen
}

fn daemon_graph() -> Graph {
    module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn the_modules_form_no_cycle() {
    let graph = daemon_graph();
    // A positive control: the reader does see the uses that are there.
    assert!(graph["daemon"].contains("door"), "{graph:#?}");
    assert!(graph["config"].contains("vision"), "{graph:#?}");
    assert!(graph["vision"].contains("kiosk"), "{graph:#?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn the_door_task_sees_only_what_it_needs() {
    let graph = daemon_graph();
    let door = reach(&graph, "door");
    for far in [
        "vision", "kiosk", "sync", "config", "daemon", "hardware", "sim",
    ] {
        assert!(!door.contains(far), "door reaches {far}: {door:?}");
    }
}

#[test]
fn the_reader_finds_cycles_and_grouped_uses() {
    let code = "use crate::{\n    a::{self, B},\n    // crate::commented\n    c,\n};\nfn f() { crate::d::g() } // crate::e";
    let found: Vec<String> = crate_paths(code).into_iter().collect();
    assert_eq!(found, ["a", "c", "d"]);
    let graph: Graph = [("x", "y"), ("y", "z"), ("z", "x")]
        .into_iter()
        .map(|(m, used)| (m.to_owned(), BTreeSet::from([used.to_owned()])))
        .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["x".into(), "y".into(), "z".into(), "x".into()])
    );
}
