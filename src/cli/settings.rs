//! The hyperparameter flags of `pclab train` and `pclab sweep-tradeoff`: one flag per
//! field of [`Config`], named and documented from `Config::default()` serialised, so the
//! list and the defaults are written once, in `src/config.rs`.
//!
//! A field `inference_lr` is the flag `--inference-lr` (or `--inference_lr`); a field
//! whose URL key on the page differs also answers to that key (`--T 8`).

use clap::{Arg, ArgMatches, Command, FromArgMatches};
use pclab::config::Config;
use serde_json::Value;

/// The hyperparameters set on the command line: (field, value) in command-line order,
/// ready for [`Config::with_settings`].
#[derive(Clone, Debug, Default)]
pub struct Settings(Vec<(String, String)>);

impl Settings {
    /// The settings as `(field, value)` pairs.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Every field of the configuration: its name, its URL key and its default as the
/// command line writes it.
fn fields() -> Vec<(String, &'static str, String)> {
    let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
    pclab::config::fields()
        .into_iter()
        .map(|f| (f.name.to_string(), f.key, written(&defaults[f.name])))
        .collect()
}

/// A JSON value as a flag's value: strings bare, lists comma-separated.
fn written(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(written).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

impl clap::Args for Settings {
    fn augment_args(cmd: Command) -> Command {
        let cmd = cmd.next_help_heading(
            "Hyperparameters (the defaults without --preset; a preset replaces them)",
        );
        fields().into_iter().fold(cmd, |cmd, (name, key, default)| {
            let flag = name.replace('_', "-");
            let mut arg = Arg::new(name.clone())
                .long(flag.clone())
                .value_name("VALUE")
                .allow_negative_numbers(true)
                .help(format!("[default: {default}]"));
            if flag != name {
                arg = arg.alias(name.clone());
            }
            if key != name {
                arg = arg.visible_alias(key);
            }
            cmd.arg(arg)
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for Settings {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut given: Vec<(usize, String, String)> = fields()
            .into_iter()
            .filter_map(|(name, ..)| {
                let value = matches.get_one::<String>(&name)?.clone();
                Some((matches.index_of(&name)?, name, value))
            })
            .collect();
        given.sort_by_key(|(index, ..)| *index);
        Ok(Self(
            given
                .into_iter()
                .map(|(_, name, value)| (name, value))
                .collect(),
        ))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}
