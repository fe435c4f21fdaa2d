//! `template.yaml` as a plain tree for the end-to-end tests that check it
//! entry by entry: maps (in document order), lists and scalars as text
//! (`256`, `true`; tagged values such as `!Ref X` as yaml-rust2 reads them),
//! read with yaml-rust2, so every YAML form cleave writes (flow sequences,
//! intrinsic functions, block scalars) parses.

#![allow(dead_code)] // Each test binary uses part of it.

use yaml_rust2::YamlLoader;

#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Scalar(String),
    List(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn at(&self, path: &[&str]) -> Option<&Yaml> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)?.text()
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Yaml::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

/// The one document of `text`; panics (failing the test) on anything that
/// is not YAML.
pub fn parse_yaml(text: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text).expect("template.yaml is YAML");
    assert_eq!(docs.len(), 1, "one YAML document");
    tree(&docs.remove(0))
}

fn tree(y: &yaml_rust2::Yaml) -> Yaml {
    use yaml_rust2::Yaml as Y;
    match y {
        Y::Hash(h) => Yaml::Map(
            h.iter()
                .map(|(k, v)| (scalar(k).unwrap_or_default(), tree(v)))
                .collect(),
        ),
        Y::Array(a) => Yaml::List(a.iter().map(tree).collect()),
        other => Yaml::Scalar(scalar(other).unwrap_or_default()),
    }
}

fn scalar(y: &yaml_rust2::Yaml) -> Option<String> {
    use yaml_rust2::Yaml as Y;
    match y {
        Y::String(s) | Y::Real(s) => Some(s.clone()),
        Y::Integer(i) => Some(i.to_string()),
        Y::Boolean(b) => Some(b.to_string()),
        Y::Null => Some(String::new()),
        _ => None,
    }
}
